package io.ragline.console.collections;

import static io.ragline.console.ConsoleTestServer.ADMIN;
import static io.ragline.console.ConsoleTestServer.OPERATOR;
import static io.ragline.console.ConsoleTestServer.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.console.ConsoleTestServer;
import io.ragline.console.api.Json;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.http.HttpSettings;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.embedding.search.SearchServer;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.ingest.IngestWorker;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /api/v1/documents} and {@code /api/v1/search} on a real console server, Postgres and
 * Kafka, with the event-dispatcher, ingest-worker and embedding-worker running in this JVM as
 * {@code ragline all} runs them: a document published through the API ends embedded and found,
 * a delete goes through Kafka, a paused collection's document waits for the resume, a re-embed
 * computes the vectors again; every route and status, and the roles.
 */
class DocumentsAndSearchApiIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final String PREFIX = "docs" + UUID.randomUUID().toString().substring(0, 8) + ".";
    static ConsoleTestServer console;
    static WorkerRuntime workers;

    @BeforeAll
    static void start() {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_TOPIC_PREFIX", PREFIX);
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0");
        env.put("RAGLINE_SEARCH_PORT", "0");
        env.put("RAGLINE_OUTBOX_POLL_INTERVAL", "200ms");
        Env all = new Env(env);
        HttpSettings http = HttpSettings.forApi(all, HttpSettings.LOOPBACK_HOST, SearchServer.NAME);
        List<Consumer<WorkerRuntime>> wirings = List.of(
                EventDispatcher.wiring(all),
                IngestWorker.wiring(all, 0, http),
                EmbeddingWorker.wiring(all, EmbeddingWorker.SEARCH_PORT, 0, http));
        all.validate();
        workers = WorkerRuntime.start("all", 0, all);
        wirings.forEach(w -> w.accept(workers));

        Map<String, String> owner = new HashMap<>(env);
        owner.put("DATABASE_URL", db.ownerDatabaseUrl());
        console = ConsoleTestServer.start(owner, CollectionAreas.wiring(new Env(owner)));
    }

    @AfterAll
    static void stop() {
        try {
            if (console != null) {
                console.assertEveryRouteAnswered("/documents");
                console.assertEveryRouteAnswered("/search");
                console.close();
            }
        } finally {
            if (workers != null) {
                workers.close();
            }
        }
    }

    @Test
    void aDocumentPublishedThroughTheApiEndsEmbeddedAndSearchFindsIt() throws Exception {
        HttpResponse<String> published = console.post(
                "/api/v1/documents",
                OPERATOR,
                "{\"op\": \"upsert\", \"id\": \"kitchen\", \"title\": \"Bread\", \"content\": \"The sourdough"
                        + " starter is fed with flour and water every morning, and the bread is baked in a cast"
                        + " iron pot.\", \"metadata\": {\"room\": \"kitchen\"}}");
        assertThat(published.statusCode()).as(published.body()).isEqualTo(202);
        JsonNode at = json(published);
        assertThat(at.get("topic").asText()).isEqualTo(PREFIX + "documents");
        assertThat(at.get("offset").asLong()).isNotNegative();

        long id = awaitStatus("kitchen", "embedded");
        JsonNode doc = json(console.get("/api/v1/documents/" + id, VIEWER));
        assertThat(doc.get("collection").asText()).isEqualTo("default");
        assertThat(doc.get("title").asText()).isEqualTo("Bread");
        assertThat(doc.get("metadata").get("room").asText()).isEqualTo("kitchen");
        assertThat(doc.get("chunks")).isNotEmpty();
        assertThat(doc.get("chunks").findValues("embedded")).allMatch(JsonNode::asBoolean);
        assertThat(doc.get("chunks").get(0).get("model").asText()).isEqualTo(ModelCatalog.DEFAULT_MODEL);
        assertThat(doc.get("chunks").get(0).get("content").asText()).contains("sourdough");

        HttpResponse<String> found = console.post(
                "/api/v1/search",
                VIEWER,
                "{\"query\": \"how do I bake bread at home\", \"k\": 1, \"filter\": {\"room\": \"kitchen\"}}");
        assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
        JsonNode hit = json(found).get("results").get(0);
        assertThat(hit.get("document_id").asText()).isEqualTo("kitchen");
        assertThat(hit.get("score").asDouble()).isPositive();
        assertThat(json(console.post(
                                "/api/v1/search", VIEWER, "{\"query\": \"bread\", \"filter\": {\"room\": \"garage\"}}"))
                        .get("results"))
                .isEmpty();
    }

    @Test
    void aSearchOfAnUnknownCollectionIs404AndBadFieldsAre422Or400() throws Exception {
        assertThat(console.post("/api/v1/search", VIEWER, "{\"query\": \"bread\", \"collection\": \"nope\"}")
                        .statusCode())
                .isEqualTo(404);
        HttpResponse<String> k = console.post("/api/v1/search", VIEWER, "{\"query\": \"bread\", \"k\": 0}");
        assertThat(k.statusCode()).isEqualTo(422);
        assertThat(json(k).get("errors").get("k").asText()).contains("from 1 to 100");
        assertThat(console.post("/api/v1/search", VIEWER, "{\"k\": 3}").statusCode())
                .isEqualTo(422);
        assertThat(console.post("/api/v1/search", VIEWER, "[\"bread\"]").statusCode())
                .isEqualTo(400);
        assertThat(console.post("/api/v1/search", VIEWER, "{\"query\": ").statusCode())
                .isEqualTo(400);
    }

    @Test
    void aSearchTakesItsModeFilterAndContextAndABadFilterIs400NamingItsPath() throws Exception {
        HttpResponse<String> published = console.post(
                "/api/v1/documents",
                OPERATOR,
                "{\"op\": \"upsert\", \"id\": \"greenhouse\", \"title\": \"Tomatoes\", \"content\": \"Tomatoes"
                        + " ripen in the greenhouse from July; pinch out the side shoots every week.\","
                        + " \"metadata\": {\"room\": \"greenhouse\", \"year\": 2021}}");
        assertThat(published.statusCode()).as(published.body()).isEqualTo(202);
        awaitStatus("greenhouse", "embedded");

        for (String mode : List.of("text", "hybrid")) {
            HttpResponse<String> found = console.post(
                    "/api/v1/search",
                    VIEWER,
                    "{\"query\": \"tomato side shoots\", \"mode\": \"" + mode + "\", \"context\": 1,"
                            + " \"filter\": {\"year\": {\"$gte\": 2020}, \"room\": {\"$in\": [\"greenhouse\"]}}}");
            assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
            JsonNode hit = json(found).get("results").get(0);
            assertThat(hit.get("document_id").asText()).as(mode).isEqualTo("greenhouse");
            assertThat(hit.get("text_score").asDouble()).as(mode).isPositive();
            assertThat(hit.get("matching_chunks").isArray()).isTrue();
            assertThat(hit.get("context").isArray()).isTrue();
            assertThat(hit.get("seq").asInt()).isZero();
        }

        HttpResponse<String> bad = console.post(
                "/api/v1/search", VIEWER, "{\"query\": \"tomato\", \"filter\": {\"year\": {\"$gt\": [2020]}}}");
        assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
        assertThat(json(bad).get("errors").get("filter").asText()).startsWith("filter.year.$gt: a range");
        HttpResponse<String> unknown = console.post(
                "/api/v1/search", VIEWER, "{\"query\": \"tomato\", \"filter\": {\"year\": {\"$near\": 1}}}");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(json(unknown).get("detail").asText()).contains("filter.year.$near: unknown operator");
        HttpResponse<String> nested = console.post(
                "/api/v1/search", VIEWER, "{\"query\": \"tomato\", \"filter\": {\"room\": {\"$eq\": {\"$in\": [1]}}}}");
        assertThat(nested.statusCode()).as(nested.body()).isEqualTo(400);
        assertThat(json(nested).get("errors").get("filter").asText()).startsWith("filter.room.$eq: takes a string");
        // A value the database cannot store (class 22 but not 22023) is the filter's 400 too, not a 422.
        HttpResponse<String> nul =
                console.post("/api/v1/search", VIEWER, "{\"query\": \"tomato\", \"filter\": {\"room\": \"\\u0000\"}}");
        assertThat(nul.statusCode()).as(nul.body()).isEqualTo(400);
        assertThat(json(nul).get("errors").get("filter").asText()).contains("22P05");
        HttpResponse<String> mode =
                console.post("/api/v1/search", VIEWER, "{\"query\": \"tomato\", \"mode\": \"fuzzy\"}");
        assertThat(mode.statusCode()).isEqualTo(422);
        assertThat(json(mode).get("errors").get("mode").asText()).contains("vector");
    }

    @Test
    void aDocumentBreakingTheContractIs422AndNothingIsPublishedAndAViewerMayNotPublish() throws Exception {
        Map<Integer, Long> before = KafkaTopics.endOffsets(PREFIX + "documents");
        HttpResponse<String> noContent =
                console.post("/api/v1/documents", OPERATOR, "{\"op\": \"upsert\", \"id\": \"empty\"}");
        assertThat(noContent.statusCode()).isEqualTo(422);
        assertThat(json(noContent).get("detail").asText()).contains("content");
        HttpResponse<String> unknown = console.post(
                "/api/v1/documents",
                OPERATOR,
                "{\"op\": \"upsert\", \"collection\": \"nope\", \"id\": \"x\", \"content\": \"text\"}");
        assertThat(unknown.statusCode()).isEqualTo(422);
        assertThat(json(unknown).get("errors").get("collection").asText()).contains("no collection named 'nope'");
        assertThat(console.post(
                                "/api/v1/documents",
                                OPERATOR,
                                "{\"op\": \"upsert\", \"id\": \"x\", \"content\": \"text\", \"colour\": 1}")
                        .statusCode())
                .isEqualTo(422);
        assertThat(console.post("/api/v1/documents", OPERATOR, "not json").statusCode())
                .isEqualTo(400);
        assertThat(console.post("/api/v1/documents", VIEWER, "{\"id\": \"x\", \"content\": \"text\"}")
                        .statusCode())
                .isEqualTo(403);
        assertThat(KafkaTopics.endOffsets(PREFIX + "documents")).isEqualTo(before);
        assertThat(db.queryValue("select string_agg(status::text, ',') from audit_log where who = 'vera' and action ="
                        + " 'POST /documents'"))
                .as("the viewer's refusal is the only row its call wrote")
                .isEqualTo("403");
    }

    @Test
    void deletingADocumentGoesThroughKafkaAndTwiceIs409AndAnUnknownIdIs404() throws Exception {
        publish("default", "to-delete", "The bicycle chain was cleaned and oiled.");
        long id = awaitStatus("to-delete", "embedded");
        assertThat(console.delete("/api/v1/documents/" + id, VIEWER).statusCode())
                .isEqualTo(403);
        HttpResponse<String> deleted = console.delete("/api/v1/documents/" + id, OPERATOR);
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(202);
        assertThat(json(deleted).get("topic").asText()).isEqualTo(PREFIX + "documents");
        awaitStatus("to-delete", "deleted");
        assertThat(db.queryValue("select count(*) from chunks where document_id = " + id))
                .isEqualTo(0L);
        assertThat(console.delete("/api/v1/documents/" + id, OPERATOR).statusCode())
                .isEqualTo(409);
        assertThat(console.delete("/api/v1/documents/99999999", OPERATOR).statusCode())
                .isEqualTo(404);
        assertThat(console.get("/api/v1/documents/99999999", VIEWER).statusCode())
                .isEqualTo(404);
        assertThat(console.get("/api/v1/documents/abc", VIEWER).statusCode()).isEqualTo(404);
    }

    @Test
    void aPausedCollectionsDocumentWaitsForTheResumeAndAReembedComputesItsVectorsAgain() throws Exception {
        assertThat(console.post("/api/v1/collections", ADMIN, "{\"name\": \"notes\"}")
                        .statusCode())
                .isEqualTo(201);
        assertThat(console.post("/api/v1/collections/notes/pause", OPERATOR, null)
                        .statusCode())
                .isEqualTo(200);
        publish("notes", "tea", "Tea is brewed with water just off the boil.");
        long id = awaitStatus("tea", "chunked");
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            var skipped = workers.registry()
                    .find("ragline.embedding.requests")
                    .tag("outcome", "paused")
                    .counter();
            return skipped != null && skipped.count() >= 1;
        });
        assertThat(db.queryValue("select status from documents where id = " + id))
                .isEqualTo("chunked");
        assertThat(console.post("/api/v1/collections/notes/resume", OPERATOR, null)
                        .statusCode())
                .isEqualTo(200);
        awaitStatus("tea", "embedded");
        Object firstVector = db.queryValue("select max(e.embedded_at)::text from chunk_embeddings e join chunks ch on"
                + " ch.id = e.chunk_id where ch.document_id = " + id);

        assertThat(console.post("/api/v1/documents/" + id + "/reembed", VIEWER, null)
                        .statusCode())
                .isEqualTo(403);
        HttpResponse<String> reembed = console.post("/api/v1/documents/" + id + "/reembed", OPERATOR, null);
        assertThat(reembed.statusCode()).as(reembed.body()).isEqualTo(202);
        assertThat(json(reembed).get("documents").asInt()).isEqualTo(1);
        await().atMost(Duration.ofMinutes(2))
                .until(() -> "embedded".equals(db.queryValue("select status from documents where id = " + id))
                        && !firstVector.equals(db.queryValue("select max(e.embedded_at)::text from chunk_embeddings e"
                                + " join chunks ch on ch.id = e.chunk_id where ch.document_id = " + id)));
        assertThat(db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id = e.chunk_id where"
                        + " ch.document_id = " + id))
                .isEqualTo(((Number) db.queryValue("select chunk_count from documents where id = " + id)).longValue());

        assertThat(console.post("/api/v1/documents/99999999/reembed", OPERATOR, null)
                        .statusCode())
                .isEqualTo(404);
        db.execute("insert into documents (collection_id, external_id, status) select id, 'gone', 'deleted' from"
                + " collections where name = 'notes'");
        Object gone = db.queryValue("select id from documents where external_id = 'gone'");
        assertThat(console.post("/api/v1/documents/" + gone + "/reembed", OPERATOR, null)
                        .statusCode())
                .isEqualTo(409);
    }

    @Test
    void theListFiltersByCollectionStatusAndTextNewestFirstAndPagesWithinItsBounds() throws Exception {
        db.execute("insert into collections (name) values ('listing')");
        db.execute("insert into documents (collection_id, external_id, title, status, version) select id, 'list-' ||"
                + " n, case when n = 2 then 'Odd_Title 100%' end, case when n = 3 then 'failed' else 'chunked' end, n"
                + " from collections, generate_series(1, 4) n where name = 'listing'");
        JsonNode first = json(console.get("/api/v1/documents?collection=listing&limit=3", VIEWER));
        assertThat(first.get("items").findValuesAsText("external_id")).containsExactly("list-4", "list-3", "list-2");
        JsonNode item = first.get("items").get(0);
        assertThat(item.fieldNames())
                .toIterable()
                .containsExactly(
                        "id",
                        "collection",
                        "external_id",
                        "title",
                        "status",
                        "version",
                        "chunk_count",
                        "error",
                        "updated_at");
        JsonNode second = json(console.get(
                "/api/v1/documents?collection=listing&limit=3&after="
                        + first.get("next").asText(),
                VIEWER));
        assertThat(second.get("items").findValuesAsText("external_id")).containsExactly("list-1");
        assertThat(second.get("next").isNull()).isTrue();

        assertThat(json(console.get("/api/v1/documents?collection=listing&status=failed", VIEWER))
                        .get("items")
                        .findValuesAsText("external_id"))
                .containsExactly("list-3");
        assertThat(json(console.get("/api/v1/documents?collection=listing&q=_title%20100%25", VIEWER))
                        .get("items")
                        .findValuesAsText("external_id"))
                .as("LIKE's wildcards are taken literally")
                .containsExactly("list-2");
        assertThat(json(console.get("/api/v1/documents?collection=listing&q=LIST-1", VIEWER))
                        .get("items")
                        .findValuesAsText("external_id"))
                .containsExactly("list-1");
        assertThat(console.get("/api/v1/documents?status=lost", VIEWER).statusCode())
                .isEqualTo(400);
        assertThat(console.get("/api/v1/documents?limit=501", VIEWER).statusCode())
                .isEqualTo(400);
        assertThat(console.get("/api/v1/documents?after=bm90LWFuLWlk", VIEWER).statusCode())
                .isEqualTo(400);
    }

    private static void publish(String collection, String id, String content) throws Exception {
        HttpResponse<String> r = console.post(
                "/api/v1/documents",
                OPERATOR,
                "{\"op\": \"upsert\", \"collection\": \"" + collection + "\", \"id\": \"" + id + "\", \"content\": \""
                        + content + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    }

    /** Waits until the document {@code externalId}, found through the API's list, is in {@code status}; its id. */
    private static long awaitStatus(String externalId, String status) {
        long[] id = new long[1];
        await().atMost(Duration.ofMinutes(3)).until(() -> {
            JsonNode items = json(console.get("/api/v1/documents?q=" + externalId, VIEWER))
                    .get("items");
            for (JsonNode item : items) {
                if (item.get("external_id").asText().equals(externalId)
                        && item.get("status").asText().equals(status)) {
                    id[0] = item.get("id").asLong();
                    return true;
                }
            }
            return false;
        });
        return id[0];
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return Json.MAPPER.readTree(response.body());
    }
}
