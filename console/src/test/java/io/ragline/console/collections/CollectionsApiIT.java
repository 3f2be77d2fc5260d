package io.ragline.console.collections;

import static io.ragline.console.ConsoleTestServer.ADMIN;
import static io.ragline.console.ConsoleTestServer.OPERATOR;
import static io.ragline.console.ConsoleTestServer.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.console.ConsoleTestServer;
import io.ragline.console.api.Json;
import io.ragline.console.api.Route;
import io.ragline.core.collections.CollectionSettings;
import io.ragline.core.config.Env;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.testkit.PostgresSchema;
import io.swagger.parser.OpenAPIParser;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /api/v1/collections} on a real console server and Postgres, the console logged in as the
 * schema's owner (creating and deleting a collection is DDL): every route, every status it declares,
 * and the roles.
 */
class CollectionsApiIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static ConsoleTestServer console;

    @BeforeAll
    static void start() {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("DATABASE_URL", db.ownerDatabaseUrl());
        console = ConsoleTestServer.start(env, CollectionAreas.wiring(new Env(env)));
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.assertEveryRouteAnswered("/collections");
            console.close();
        }
    }

    @BeforeEach
    void onlyTheDefaultCollection() throws SQLException {
        db.execute("delete from collections where name <> 'default'");
        db.execute("delete from outbox");
    }

    @Test
    void anAdminCreatesACollectionWithDefaultsAndSeesItListedWithZeroCounts() throws Exception {
        HttpResponse<String> created =
                console.post("/api/v1/collections", ADMIN, "{\"name\": \"notes\", \"chunk_size_tokens\": 128}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode made = json(created);
        assertThat(made.get("name").asText()).isEqualTo("notes");
        assertThat(made.get("embedding_provider").asText()).isEqualTo("onnx");
        assertThat(made.get("embedding_model").asText()).isEqualTo(ModelCatalog.DEFAULT_MODEL);
        assertThat(made.get("dimensions").asInt()).isEqualTo(384);
        assertThat(made.get("chunk_size_tokens").asInt()).isEqualTo(128);
        assertThat(made.get("status").asText()).isEqualTo("active");
        assertThat(made.get("last_error").isNull()).isTrue();
        assertThat(made.get("counts").toString())
                .isEqualTo("{\"received\":0,\"chunked\":0,\"embedded\":0,\"failed\":0,\"deleted\":0}");
        assertThat(made.get("created_at").asText()).endsWith("Z");
        assertThat(made.get("distance").asText()).isEqualTo("cosine");
        assertThat(made.get("index").asText()).isEqualTo("hnsw");
        assertThat(made.get("m").isNull()).isTrue();
        assertThat(made.get("halfvec").asBoolean()).isFalse();
        assertThat(made.get("text_config").asText()).isEqualTo("english");
        assertThat(made.get("index_built").asBoolean()).isTrue();

        HttpResponse<String> one = console.get("/api/v1/collections/notes", VIEWER);
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(json(one)).isEqualTo(made);
        assertThat(db.queryValue(
                        "select count(*) from pg_indexes where schemaname = current_schema() and indexname = (select"
                                + " 'chunk_embeddings_c' ||"
                                + " id || '_idx' from collections where name = 'notes')"))
                .isEqualTo(1L);
    }

    @Test
    void theListIsByNameAndPagesWithItsCursorWithinItsBounds() throws Exception {
        for (String name : new String[] {"c", "a", "b"}) {
            assertThat(console.post("/api/v1/collections", ADMIN, "{\"name\": \"" + name + "\"}")
                            .statusCode())
                    .isEqualTo(201);
        }
        db.execute("insert into documents (collection_id, external_id, status, error) select id, 'x', 'failed',"
                + " 'model refused it' from collections where name = 'a'");
        JsonNode first = json(console.get("/api/v1/collections?limit=2", VIEWER));
        assertThat(first.get("items").findValuesAsText("name")).containsExactly("a", "b");
        assertThat(first.get("items").get(0).get("counts").get("failed").asLong())
                .isEqualTo(1);
        assertThat(first.get("items").get(0).get("last_error").asText()).isEqualTo("model refused it");
        JsonNode second = json(console.get(
                "/api/v1/collections?limit=2&after=" + first.get("next").asText(), VIEWER));
        assertThat(second.get("items").findValuesAsText("name")).containsExactly("c", "default");
        assertThat(second.get("next").isNull()).isTrue();

        assertThat(console.get("/api/v1/collections?limit=501", VIEWER).statusCode())
                .isEqualTo(400);
        assertThat(console.get("/api/v1/collections?limit=0", VIEWER).statusCode())
                .isEqualTo(400);
        assertThat(console.get("/api/v1/collections?after=%25%25", VIEWER).statusCode())
                .isEqualTo(400);
    }

    @Test
    void aDuplicateIs409AndInvalidValuesAre422NamingEachFieldAndNeitherWritesAnything() throws Exception {
        assertThat(console.post("/api/v1/collections", ADMIN, "{\"name\": \"notes\"}")
                        .statusCode())
                .isEqualTo(201);
        HttpResponse<String> again = console.post(
                "/api/v1/collections", ADMIN, "{\"name\": \"notes\", \"embedding_model\": \"bge-small-en-v1.5-q\"}");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(json(again).get("detail").asText()).contains("'notes' exists");

        HttpResponse<String> invalid = console.post(
                "/api/v1/collections",
                ADMIN,
                "{\"name\": \"Not Valid\", \"embedding_model\": \"nope\", \"chunk_size_tokens\": 10,"
                        + " \"chunk_overlap_tokens\": 10, \"chunk_template\": \"{title}\"}");
        assertThat(invalid.statusCode()).isEqualTo(422);
        assertThat(json(invalid).get("errors").fieldNames())
                .toIterable()
                .containsExactlyInAnyOrder("name", "embedding_model", "chunk_overlap_tokens", "chunk_template");
        HttpResponse<String> types = console.post(
                "/api/v1/collections", ADMIN, "{\"name\": 7, \"dimensions\": \"many\", \"colour\": \"red\"}");
        assertThat(types.statusCode()).isEqualTo(422);
        assertThat(json(types).get("errors").fieldNames())
                .toIterable()
                .containsExactlyInAnyOrder("name", "dimensions", "colour");
        assertThat(console.post("/api/v1/collections", ADMIN, "{\"name\": ").statusCode())
                .isEqualTo(400);
        assertThat(console.post("/api/v1/collections", ADMIN, "[1]").statusCode())
                .isEqualTo(400);
        assertThat(db.queryValue("select string_agg(name || ' ' || embedding_model, ',') from collections where name"
                        + " <> 'default'"))
                .isEqualTo("notes " + ModelCatalog.DEFAULT_MODEL);
    }

    @Test
    void aViewersAndAnOperatorsCreateAre403AndWriteNothingButTheRefusal() throws Exception {
        db.execute("delete from audit_log");
        assertThat(console.post("/api/v1/collections", VIEWER, "{\"name\": \"notes\"}")
                        .statusCode())
                .isEqualTo(403);
        assertThat(console.post("/api/v1/collections", OPERATOR, "{\"name\": \"notes\"}")
                        .statusCode())
                .isEqualTo(403);
        assertThat(console.delete("/api/v1/collections/default", OPERATOR).statusCode())
                .isEqualTo(403);
        assertThat(console.post("/api/v1/collections/default/pause", VIEWER, null)
                        .statusCode())
                .isEqualTo(403);
        assertThat(db.queryValue("select count(*) from collections where name = 'notes'"))
                .isEqualTo(0L);
        assertThat(db.queryValue("select status from collections where name = 'default'"))
                .isEqualTo("active");
        assertThat(db.queryValue("select string_agg(who || ' ' || action || ' ' || status, ',' order by id) from"
                        + " audit_log"))
                .isEqualTo("vera POST /collections 403,otto POST /collections 403,otto DELETE"
                        + " /collections/{name} 403,vera POST /collections/{name}/pause 403");
    }

    @Test
    void theVectorIndexIsChosenAtCreateBuiltByAReindexAndNeverChangedByAnUpdate() throws Exception {
        HttpResponse<String> bad = console.post(
                "/api/v1/collections",
                ADMIN,
                "{\"name\": \"vecs\", \"index\": \"hnsw\", \"lists\": 10, \"distance\": \"dot\", \"m\": 1}");
        assertThat(bad.statusCode()).isEqualTo(422);
        assertThat(json(bad).get("errors").fieldNames())
                .toIterable()
                .containsExactlyInAnyOrder("distance", "lists", "m");
        assertThat(json(bad).get("errors").get("lists").asText())
                .isEqualTo("is an option of the ivfflat index, not of hnsw");
        assertThat(console.post("/api/v1/collections", ADMIN, "{\"name\": \"vecs\", \"halfvec\": \"yes\"}")
                        .statusCode())
                .isEqualTo(422);

        HttpResponse<String> created = console.post(
                "/api/v1/collections",
                ADMIN,
                "{\"name\": \"vecs\", \"embedding_provider\": \"openai\", \"embedding_model\": \"t\","
                        + " \"dimensions\": 4, \"distance\": \"inner_product\", \"index\": \"ivfflat\","
                        + " \"lists\": 2, \"probes\": 2, \"halfvec\": true, \"text_config\": \"simple\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode made = json(created);
        assertThat(made.get("distance").asText()).isEqualTo("inner_product");
        assertThat(made.get("index").asText()).isEqualTo("ivfflat");
        assertThat(made.get("lists").asInt()).isEqualTo(2);
        assertThat(made.get("probes").asInt()).isEqualTo(2);
        assertThat(made.get("ef_search").isNull()).isTrue();
        assertThat(made.get("halfvec").asBoolean()).isTrue();
        assertThat(made.get("text_config").asText()).isEqualTo("simple");
        assertThat(made.get("index_built").asBoolean())
                .as("an IVFFlat index waits for vectors")
                .isFalse();

        HttpResponse<String> empty = console.post("/api/v1/collections/vecs/reindex", ADMIN, null);
        assertThat(empty.statusCode()).isEqualTo(200);
        assertThat(json(empty).get("index_built").asBoolean()).isFalse();
        db.execute("with d as (insert into documents (collection_id, external_id, status) select c.id, 'doc-' || i,"
                + " 'embedded' from collections c, generate_series(1, 10) i where c.name = 'vecs' returning id,"
                + " collection_id), ch as (insert into chunks (document_id, collection_id, document_version, seq,"
                + " content, token_count) select id, collection_id, 0, 0, 'text', 1 from d returning id,"
                + " collection_id) insert into chunk_embeddings (chunk_id, collection_id, embedding, model) select id,"
                + " collection_id, array[id % 7, id % 5, id % 3, 1]::real[]::vector, 'test' from ch");
        HttpResponse<String> built = console.post("/api/v1/collections/vecs/reindex", ADMIN, null);
        assertThat(built.statusCode()).isEqualTo(200);
        assertThat(json(built).get("index_built").asBoolean()).isTrue();
        assertThat(console.post("/api/v1/collections/nope/reindex", ADMIN, null).statusCode())
                .isEqualTo(404);

        HttpResponse<String> change =
                console.patch("/api/v1/collections/vecs", ADMIN, "{\"distance\": \"cosine\", \"lists\": 3}");
        assertThat(change.statusCode()).isEqualTo(422);
        assertThat(json(change).get("errors").fieldNames()).toIterable().containsExactlyInAnyOrder("distance", "lists");
        assertThat(json(change).get("errors").get("distance").asText()).contains("changeable only through a migration");
        assertThat(db.queryValue("select distance || ' ' || index_options::text from collections where name = 'vecs'"))
                .isEqualTo("inner_product {\"lists\": 2, \"probes\": 2}");
    }

    @Test
    void aReindexWaitingLongerThanThePipelinesSocketTimeoutRunsOnALongStatementConnectionAndIsNotCut()
            throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("DATABASE_URL", db.ownerDatabaseUrl());
        env.put("RAGLINE_DB_SOCKET_TIMEOUT", "1s");
        try (ConsoleTestServer quick = ConsoleTestServer.start(env, CollectionAreas.wiring(new Env(env)));
                Connection holder = db.connect()) {
            assertThat(quick.post("/api/v1/collections", ADMIN, "{\"name\": \"slow\"}")
                            .statusCode())
                    .isEqualTo(201);
            holder.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                // What a reindex takes first (one at a time): it waits here, silent, as behind a long build.
                s.execute("lock table chunk_embeddings in share row exclusive mode");
            }
            CompletableFuture<HttpResponse<String>> reindex = CompletableFuture.supplyAsync(() -> {
                try {
                    return quick.post("/api/v1/collections/slow/reindex", ADMIN, null);
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            });

            await().atMost(Duration.ofSeconds(10))
                    .until(() -> db.queryValue("select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                                    + " and application_name like 'ragline-console%'")
                            .equals(1L));
            await().during(Duration.ofSeconds(3))
                    .atMost(Duration.ofSeconds(4))
                    .alias("three times the pipeline's 1 s socket timeout, the reindex still waits")
                    .until(() -> !reindex.isDone());
            holder.rollback();

            HttpResponse<String> done = reindex.get(30, TimeUnit.SECONDS);
            assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
            assertThat(json(done).get("index_built").asBoolean()).isTrue();
        }
        assertThat(console.routes().routes().stream().filter(Route::runsLong).map(Route::name))
                .as("the console's operations that run long, on connections the socket timeout does not cut")
                .containsExactlyInAnyOrder(
                        "POST /collections/{name}/reindex",
                        "DELETE /collections/{name}",
                        "POST /collections/{name}/resume",
                        "POST /collections/{name}/reembed",
                        "POST /collections/{name}/rollback",
                        "POST /collections/{name}/prune");
    }

    @Test
    void anUpdateChangesTheChunkingKeepsTheRulesAndAnUnknownNameIs404() throws Exception {
        console.post("/api/v1/collections", ADMIN, "{\"name\": \"notes\"}");
        HttpResponse<String> updated = console.patch(
                "/api/v1/collections/notes", ADMIN, "{\"chunk_size_tokens\": 64, \"chunk_template\": \"{chunk}\"}");
        assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
        assertThat(json(updated).get("chunk_size_tokens").asInt()).isEqualTo(64);
        assertThat(json(updated).get("chunk_template").asText()).isEqualTo("{chunk}");

        HttpResponse<String> overlap =
                console.patch("/api/v1/collections/notes", ADMIN, "{\"chunk_overlap_tokens\": 64}");
        assertThat(overlap.statusCode()).isEqualTo(422);
        assertThat(json(overlap).get("errors").get("chunk_overlap_tokens").asText())
                .contains("must stay below the chunk size (64)");
        assertThat(console.patch("/api/v1/collections/notes", ADMIN, "{\"embedding_model\": \"x\"}")
                        .statusCode())
                .isEqualTo(422);
        assertThat(console.patch("/api/v1/collections/nope", ADMIN, "{\"chunk_size_tokens\": 64}")
                        .statusCode())
                .isEqualTo(404);
        assertThat(console.get("/api/v1/collections/nope", VIEWER).statusCode()).isEqualTo(404);
        assertThat(db.queryValue("select chunk_overlap_tokens from collections where name = 'notes'"))
                .isEqualTo(CollectionSettings.DEFAULT_CHUNK_OVERLAP_TOKENS);
    }

    @Test
    void pauseAndResumeAreTheOperatorsAndResumingAsksForTheWaitingDocuments() throws Exception {
        console.post("/api/v1/collections", ADMIN, "{\"name\": \"notes\"}");
        db.execute("insert into documents (collection_id, external_id, version, status) select id, 'waiting', 1,"
                + " 'chunked' from collections where name = 'notes'");
        HttpResponse<String> paused = console.post("/api/v1/collections/notes/pause", OPERATOR, null);
        assertThat(paused.statusCode()).isEqualTo(200);
        assertThat(json(paused).get("status").asText()).isEqualTo("paused");
        assertThat(db.queryValue("select count(*) from outbox")).isEqualTo(0L);
        HttpResponse<String> resumed = console.post("/api/v1/collections/notes/resume", OPERATOR, null);
        assertThat(resumed.statusCode()).isEqualTo(200);
        assertThat(json(resumed).get("status").asText()).isEqualTo("active");
        assertThat(db.queryValue("select string_agg(topic || ' ' || key, ',') from outbox"))
                .isEqualTo("embedding-requests notes/waiting");
        assertThat(db.queryValue("select outcome from audit_log where action = 'POST /collections/{name}/resume'"
                        + " order by id desc limit 1"))
                .isEqualTo("notes active, 1 document(s) asked for");

        assertThat(console.post("/api/v1/collections/nope/pause", OPERATOR, null)
                        .statusCode())
                .isEqualTo(404);
        assertThat(console.post("/api/v1/collections/nope/resume", OPERATOR, null)
                        .statusCode())
                .isEqualTo(404);
        db.execute("update collections set status = 'deleting' where name = 'notes'");
        assertThat(console.post("/api/v1/collections/notes/pause", OPERATOR, null)
                        .statusCode())
                .isEqualTo(409);
        assertThat(console.post("/api/v1/collections/notes/resume", OPERATOR, null)
                        .statusCode())
                .isEqualTo(409);
        assertThat(db.queryValue("select status from collections where name = 'notes'"))
                .isEqualTo("deleting");
    }

    @Test
    void reembeddingAsksForEveryDocumentAgainAndAnUnknownCollectionIs404() throws Exception {
        console.post("/api/v1/collections", ADMIN, "{\"name\": \"notes\"}");
        db.execute("insert into documents (collection_id, external_id, version, status) select id, d, 1, 'embedded'"
                + " from collections, (values ('one'), ('two')) v(d) where name = 'notes'");
        HttpResponse<String> reembed = console.post("/api/v1/collections/notes/reembed", OPERATOR, null);
        assertThat(reembed.statusCode()).isEqualTo(202);
        assertThat(json(reembed).get("documents").asInt()).isEqualTo(2);
        assertThat(db.queryValue("select string_agg(d.status, ',') from documents d join collections k on k.id ="
                        + " d.collection_id where k.name = 'notes'"))
                .isEqualTo("chunked,chunked");
        assertThat(db.queryValue("select count(*) from outbox where topic = 'embedding-requests'"))
                .isEqualTo(2L);
        assertThat(console.post("/api/v1/collections/nope/reembed", OPERATOR, null)
                        .statusCode())
                .isEqualTo(404);
    }

    @Test
    void anAdminDeletesACollectionWithItsDocumentsAndADeletedOneIs404() throws Exception {
        console.post("/api/v1/collections", ADMIN, "{\"name\": \"notes\"}");
        db.execute("insert into documents (collection_id, external_id) select id, 'one' from collections where name"
                + " = 'notes'");
        assertThat(console.delete("/api/v1/collections/notes", ADMIN).statusCode())
                .isEqualTo(204);
        assertThat(db.queryValue("select count(*) from documents")).isEqualTo(0L);
        assertThat(console.delete("/api/v1/collections/notes", ADMIN).statusCode())
                .isEqualTo(404);
        assertThat(console.get("/api/v1/collections/notes", VIEWER).statusCode())
                .isEqualTo(404);
    }

    @Test
    void aConsoleLoggedInAsAWorkerRefusesCreateAndDeleteWith403AndChangesNothing() throws Exception {
        try (ConsoleTestServer asWorker =
                ConsoleTestServer.start(db.env(), CollectionAreas.wiring(new Env(db.env())))) {
            HttpResponse<String> create = asWorker.post("/api/v1/collections", ADMIN, "{\"name\": \"notes\"}");
            assertThat(create.statusCode()).isEqualTo(403);
            assertThat(json(create).get("detail").asText()).contains("the schema owner's");
            assertThat(asWorker.delete("/api/v1/collections/default", ADMIN).statusCode())
                    .isEqualTo(403);
            assertThat(asWorker.post("/api/v1/collections/default/pause", OPERATOR, null)
                            .statusCode())
                    .as("pausing is a row change, which a worker login may make")
                    .isEqualTo(200);
            assertThat(asWorker.post("/api/v1/collections/default/resume", OPERATOR, null)
                            .statusCode())
                    .isEqualTo(200);
        }
        assertThat(db.queryValue("select string_agg(name || ' ' || status, ',') from collections"))
                .isEqualTo("default active");
    }

    @Test
    void anIndexAfterTheLoadIsLeftOutAtCreateAndMigrateUntilAReindexAndMustBeABoolean() throws Exception {
        HttpResponse<String> bad =
                console.post("/api/v1/collections", ADMIN, "{\"name\": \"bulk\", \"index_after_load\": \"yes\"}");
        assertThat(bad.statusCode()).isEqualTo(422);
        assertThat(json(bad).get("errors").get("index_after_load").asText()).startsWith("must be true or false");
        assertThat(db.queryValue("select count(*) from collections where name = 'bulk'"))
                .isEqualTo(0L);

        HttpResponse<String> created =
                console.post("/api/v1/collections", ADMIN, "{\"name\": \"bulk\", \"index_after_load\": true}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(json(created).get("index").asText()).isEqualTo("hnsw");
        assertThat(json(created).get("index_built").asBoolean()).as("left out").isFalse();
        HttpResponse<String> built = console.post("/api/v1/collections/bulk/reindex", ADMIN, null);
        assertThat(built.statusCode()).isEqualTo(200);
        assertThat(json(built).get("index_built").asBoolean()).isTrue();

        HttpResponse<String> started = console.post(
                "/api/v1/collections/bulk/migrate",
                ADMIN,
                "{\"embedding_model\": \"bge-small-en-v1.5\", \"index_after_load\": true}");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        HttpResponse<String> progress = console.get("/api/v1/collections/bulk/migration", VIEWER);
        assertThat(json(progress).get("waiting_for_index").asBoolean())
                .as("complete (no documents) and without its index")
                .isTrue();
        assertThat(json(progress).get("advice").asText()).contains("ragline collections reindex bulk");
    }

    @Test
    void anAdminMigratesACollectionToAnotherModelFollowsItsProgressRollsBackAndPrunes() throws Exception {
        assertThat(console.post("/api/v1/collections", ADMIN, "{\"name\": \"mig\"}")
                        .statusCode())
                .isEqualTo(201);
        String to = "{\"embedding_model\": \"bge-small-en-v1.5\"}";
        HttpResponse<String> started = console.post("/api/v1/collections/mig/migrate", ADMIN, to);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        assertThat(json(started).get("generation").asInt()).isEqualTo(2);
        assertThat(json(started).get("embedding_model").asText()).isEqualTo("bge-small-en-v1.5");
        assertThat(json(started).get("serving_model").asText()).isEqualTo(ModelCatalog.DEFAULT_MODEL);

        HttpResponse<String> again = console.post("/api/v1/collections/mig/migrate", ADMIN, to);
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(json(again).get("detail").asText()).contains("a migration of collection 'mig'");
        assertThat(console.post("/api/v1/collections/nope/migrate", ADMIN, to).statusCode())
                .isEqualTo(404);
        HttpResponse<String> same = console.post(
                "/api/v1/collections/default/migrate",
                ADMIN,
                "{\"embedding_model\": \"" + ModelCatalog.DEFAULT_MODEL + "\"}");
        assertThat(same.statusCode()).isEqualTo(422);
        assertThat(json(same).get("errors").get("embedding_model").asText()).contains("already serves with");
        HttpResponse<String> unknown =
                console.post("/api/v1/collections/default/migrate", ADMIN, "{\"embedding_model\": \"no-such-model\"}");
        assertThat(unknown.statusCode()).isEqualTo(422);
        assertThat(json(unknown).get("errors").get("embedding_model").asText()).contains("is not a bundled model");
        HttpResponse<String> rechunk = console.post(
                "/api/v1/collections/default/migrate",
                ADMIN,
                "{\"chunk_size_tokens\": 64, \"chunk_overlap_tokens\": 64}");
        assertThat(rechunk.statusCode()).isEqualTo(422);
        assertThat(json(rechunk).get("errors").get("chunk_overlap_tokens").asText())
                .isEqualTo("must be below the chunk size (64), was 64");
        HttpResponse<String> empty = console.post("/api/v1/collections/default/migrate", ADMIN, "{}");
        assertThat(empty.statusCode()).isEqualTo(422);
        assertThat(json(empty).get("errors").get("embedding_model").asText())
                .isEqualTo("is required (or chunk_size_tokens)");

        HttpResponse<String> progress = console.get("/api/v1/collections/mig/migration", VIEWER);
        assertThat(progress.statusCode()).isEqualTo(200);
        assertThat(json(progress).get("running").asBoolean()).isTrue();
        assertThat(json(progress).get("needed").asLong()).isZero();
        assertThat(json(progress).get("unit").asText()).isEqualTo("vectors");
        JsonNode shown = json(console.get("/api/v1/collections/mig", VIEWER));
        assertThat(shown.get("embedding_model").asText())
                .as("the serving generation's model")
                .isEqualTo(ModelCatalog.DEFAULT_MODEL);
        assertThat(shown.get("generation").asInt()).isEqualTo(1);
        assertThat(shown.get("migration").get("embedding_model").asText()).isEqualTo("bge-small-en-v1.5");
        assertThat(shown.get("migration").get("generation").asInt()).isEqualTo(2);
        JsonNode listed = json(console.get("/api/v1/collections", VIEWER));
        for (JsonNode item : listed.get("items")) {
            assertThat(item.get("migration").isNull())
                    .as("only mig migrates: " + item.get("name"))
                    .isEqualTo(!item.get("name").asText().equals("mig"));
        }
        assertThat(console.get("/api/v1/collections/nope/migration", VIEWER).statusCode())
                .isEqualTo(404);

        HttpResponse<String> stopped = console.post("/api/v1/collections/mig/rollback", ADMIN, null);
        assertThat(stopped.statusCode()).isEqualTo(200);
        assertThat(json(stopped).get("stopped_generation").asInt()).isEqualTo(2);
        HttpResponse<String> nothing = console.post("/api/v1/collections/mig/rollback", ADMIN, null);
        assertThat(nothing.statusCode()).isEqualTo(409);
        assertThat(json(nothing).get("detail").asText()).contains("has no kept generation to roll back to");
        assertThat(console.post("/api/v1/collections/nope/rollback", ADMIN, null)
                        .statusCode())
                .isEqualTo(404);
        assertThat(console.post("/api/v1/collections/mig/prune", ADMIN, null).statusCode())
                .isEqualTo(409);
        assertThat(console.post("/api/v1/collections/nope/prune", ADMIN, null).statusCode())
                .isEqualTo(404);

        assertThat(console.post("/api/v1/collections/mig/migrate", ADMIN, to).statusCode())
                .isEqualTo(202);
        try (var c = db.connect()) { // as the embedding-worker's switcher: nothing lacks in an empty collection
            Object id = db.queryValue("select id from collections where name = 'mig'");
            assertThat(io.ragline.core.collections.CollectionMigrations.switchIfComplete(c, (Integer) id)
                            .switched())
                    .isPresent();
        }
        HttpResponse<String> after = console.get("/api/v1/collections/mig/migration", VIEWER);
        assertThat(json(after).get("running").asBoolean()).isFalse();
        assertThat(json(after).get("serving_model").asText()).isEqualTo("bge-small-en-v1.5");
        long deployed = (long) db.queryValue("insert into models (project, backend, collection_id, artifact, deployed,"
                + " embedding_generation, embedding_model) select 'topics', 'builtin', g.collection_id, '\\x00', true,"
                + " g.generation, g.embedding_model from collection_generations g join collections c on c.id ="
                + " g.collection_id where c.name = 'mig' and g.state = 'kept' returning id");
        HttpResponse<String> refused = console.post("/api/v1/collections/mig/prune", ADMIN, null);
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.body())
                .contains("model " + deployed + " of project 'topics'")
                .contains("--force");
        assertThat(console.post("/api/v1/collections/mig/prune?force=maybe", ADMIN, null)
                        .statusCode())
                .isEqualTo(400);
        HttpResponse<String> pruned = console.post("/api/v1/collections/mig/prune?force=true", ADMIN, null);
        assertThat(pruned.statusCode()).isEqualTo(200);
        assertThat(json(pruned).get("vectors").asLong()).isZero();
        assertThat(db.queryValue("select count(*) from collection_generations g join collections c on c.id ="
                        + " g.collection_id where c.name = 'mig'"))
                .isEqualTo(1L);
    }

    @Test
    void theOpenApiDocumentDescribesTheCollectionsDocumentsAndSearchRoutesValidly() throws Exception {
        HttpResponse<String> r = console.get("/api/v1/openapi.json", null);
        assertThat(r.statusCode()).isEqualTo(200);
        SwaggerParseResult parsed = new OpenAPIParser().readContents(r.body(), null, null);
        assertThat(parsed.getMessages()).isEmpty();
        assertThat(parsed.getOpenAPI().getPaths().keySet())
                .contains(
                        "/collections",
                        "/collections/{name}",
                        "/collections/{name}/pause",
                        "/collections/{name}/resume",
                        "/collections/{name}/reembed",
                        "/documents",
                        "/documents/{id}",
                        "/documents/{id}/reembed",
                        "/search");
        assertThat(parsed.getOpenAPI().getPaths().get("/collections").getPost().getResponses())
                .containsKeys("201", "409", "422", "403");
        assertThat(parsed.getOpenAPI().getPaths().get("/documents").getGet().getParameters())
                .extracting(p -> p.getName())
                .contains("collection", "status", "q", "limit", "after");
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return Json.MAPPER.readTree(response.body());
    }
}
