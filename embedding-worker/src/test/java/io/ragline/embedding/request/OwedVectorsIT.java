package io.ragline.embedding.request;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.embedding.StubEmbeddingEndpoint;
import io.ragline.embedding.migration.MigrationSwitcher;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.openai.OpenAiEmbeddingProvider;
import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A building generation's model that fails for a while (review finding 3), on real Postgres with
 * two real OpenAI-compatible HTTP endpoints, one per model: the batch is not failed, the serving
 * vectors and the other collections' documents are written at once, the building generation's
 * vectors are owed, and the migration's sweep asks for every document lacking them again through
 * the outbox (once while a request waits there, not again before its wait, never for a refused
 * document), so the migration still completes and switches.
 */
class OwedVectorsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final int DIMENSIONS = 8;
    static final EmbeddingRequestCodec REQUESTS = new EmbeddingRequestCodec();
    static final Batches batches = new Batches(db);
    static StubEmbeddingEndpoint servingEndpoint;
    static StubEmbeddingEndpoint nextEndpoint;
    static OpenAiEmbeddingProvider serving;
    static final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    @BeforeAll
    static void start() throws Exception {
        servingEndpoint = new StubEmbeddingEndpoint(DIMENSIONS);
        nextEndpoint = new StubEmbeddingEndpoint(DIMENSIONS);
        serving = servingEndpoint.provider("stub-model");
    }

    /** A writer whose building model is a provider of its own (its circuit breaker counts this test's calls only). */
    private static EmbeddingWriter writer() {
        OpenAiEmbeddingProvider next = nextEndpoint.provider("stub-next");
        return new EmbeddingWriter(
                batches.pool(),
                new CollectionCatalog(Duration.ZERO),
                k -> k.model().equals("stub-next") ? next : serving,
                meters);
    }

    @AfterAll
    static void stop() {
        batches.close();
        if (servingEndpoint != null) {
            servingEndpoint.close();
        }
        if (nextEndpoint != null) {
            nextEndpoint.close();
        }
    }

    @Test
    void aBuildingModelThatFailsForSomeBatchesHoldsBackNothingServedAndTheMigrationStillSwitches() throws Exception {
        EmbeddingWriter writer = writer();
        collection("steady");
        collection("bystander");
        List<EmbeddingRequest> first = new ArrayList<>();
        for (String id : List.of("d1", "d2", "d3", "d4")) {
            first.add(new EmbeddingRequest("steady", id, batches.chunkedDocument("steady", id, 2, "tea " + id), 1));
        }
        batches.write(writer, first);
        migrate("steady");

        nextEndpoint.answer(503); // the building generation's model is unavailable for a while
        long fresh = batches.chunkedDocument("steady", "d5", 2, "kettles");
        long other = batches.chunkedDocument("bystander", "o1", 2, "cups");
        batches.write(
                writer,
                List.of(
                        first.get(0), // the migration's backfill of d1
                        new EmbeddingRequest("steady", "d5", fresh, 1),
                        new EmbeddingRequest("bystander", "o1", other, 1)));

        assertThat(status(fresh))
                .as("the serving vectors are written although the building model failed")
                .isEqualTo("embedded");
        assertThat(vectors("steady", 1)).isEqualTo(10L);
        assertThat(status(other)).as("another collection's document").isEqualTo("embedded");
        assertThat(vectors("steady", 2))
                .as("the building generation's vectors are owed")
                .isZero();
        assertThat(meters.get("ragline.migration.owed.documents")
                        .tag("collection", "steady")
                        .tag("generation", "2")
                        .counter()
                        .count())
                .isEqualTo(2.0);

        MigrationSwitcher eager = new MigrationSwitcher(batches.pool(), meters, Duration.ZERO, Duration.ZERO);
        check(eager);
        assertThat(asked("steady"))
                .as("every document lacking the building generation's vectors, owed or never asked")
                .containsExactly("steady/d1", "steady/d2", "steady/d3", "steady/d4", "steady/d5");
        assertThat(asked("bystander")).isEmpty();
        check(eager);
        assertThat(asked("steady"))
                .as("not asked twice while its request waits in the outbox")
                .hasSize(5);
        List<EmbeddingRequest> requests = takeRequests("steady"); // the dispatcher publishes them
        db.execute("update collection_generations set created_at = now() - interval '2 hours' where generation = 2"
                + " and collection_id = (select id from collections where name = 'steady')"); // past its grace
        check(new MigrationSwitcher(batches.pool(), meters, Duration.ZERO, Duration.ofHours(1)));
        assertThat(asked("steady")).as("nor again before its wait").isEmpty();

        batches.write(writer, requests); // still failing: owed again, the serving generation untouched
        assertThat(vectors("steady", 2)).isZero();
        nextEndpoint.answer(200);
        check(eager);
        batches.write(writer, takeRequests("steady"));

        assertThat(vectors("steady", 2)).isEqualTo(10L);
        check(eager);
        assertThat(db.queryValue("select embedding_model from collections where name = 'steady'"))
                .as("the migration completed and switched")
                .isEqualTo("stub-next");
        check(eager);
        assertThat(asked("steady")).as("nothing lacks: nothing is asked").isEmpty();
    }

    @Test
    void aBuildingModelThatKeepsAnsweringIsWaitedForPastItsDeadlineSoItsVectorsAreNotOwed() throws Exception {
        // Each call of 16 texts (RAGLINE_EMBEDDING_BATCH_SIZE=16) answers in 1.2 s, under the deadline
        // of 3 s (room for a loaded machine); the document's 40 texts take three calls, past 3 s in
        // all: the deadline bounds a stall, not the migration's work.
        OpenAiEmbeddingProvider next = nextEndpoint.provider("stub-next");
        EmbeddingWriter writer = new EmbeddingWriter(
                batches.pool(),
                new CollectionCatalog(Duration.ZERO),
                k -> k.model().equals("stub-next") ? next : serving,
                (generation, problem) -> {},
                meters,
                Duration.ofSeconds(3),
                16);
        collection("patient");
        long doc = batches.chunkedDocument("patient", "p1", 40, "slow kettles");
        migrate("patient");
        nextEndpoint.slowModel("stub-next", Duration.ofMillis(1200));
        try {
            long start = System.nanoTime();
            batches.write(writer, List.of(request("patient", "p1", doc)));
            Duration took = Duration.ofNanos(System.nanoTime() - start);

            assertThat(took).as("three answers of 1.2 s each were waited for").isGreaterThan(Duration.ofMillis(3300));
            assertThat(status(doc)).isEqualTo("embedded");
            assertThat(vectors("patient", 2))
                    .as("the building generation's vectors, not owed")
                    .isEqualTo(40L);
        } finally {
            nextEndpoint.slowModel(null, Duration.ZERO);
        }
    }

    @Test
    void aDocumentTheBuildingModelRefusedIsNeverAskedForAgain() throws Exception {
        EmbeddingWriter writer = writer();
        collection("picky");
        long plain = batches.chunkedDocument("picky", "plain", 1, "tea");
        long novel = batches.chunkedDocument("picky", "novel", 1, "a NOVEL word");
        batches.write(writer, List.of(request("picky", "plain", plain), request("picky", "novel", novel)));
        migrate("picky");
        nextEndpoint.refuseInputsContaining("NOVEL", 400);
        try {
            batches.write(writer, List.of(request("picky", "plain", plain), request("picky", "novel", novel)));
            assertThat(db.queryValue("select count(*) from generation_refusals where document_id = " + novel))
                    .isEqualTo(1L);
            db.execute("delete from chunk_embeddings where generation = 2 and chunk_id in (select id from chunks"
                    + " where document_id = " + plain + ")"); // slipped past: the sweep finds it

            check(new MigrationSwitcher(batches.pool(), meters, Duration.ZERO, Duration.ZERO));

            assertThat(asked("picky")).containsExactly("picky/plain");
        } finally {
            nextEndpoint.refuseInputsContaining(null, 0);
        }
    }

    @Test
    void aBuildingGenerationWhoseProviderThisWorkerCannotCreateLeavesItsVectorsOwedNotRefused() throws Exception {
        collection("unconfigured");
        long doc = batches.chunkedDocument("unconfigured", "u1", 2, "teapots");
        batches.write(writer(), List.of(request("unconfigured", "u1", doc)));
        migrate("unconfigured");
        // as ProviderRegistry says of a provider this replica has no endpoint for (non-retryable)
        EmbeddingWriter misconfigured = new EmbeddingWriter(
                batches.pool(),
                new CollectionCatalog(Duration.ZERO),
                k -> {
                    if (k.model().equals("stub-next")) {
                        throw new EmbeddingException(
                                "collection '" + k.name() + "' uses provider 'openai' but this embedding-worker has"
                                        + " no endpoint",
                                false);
                    }
                    return serving;
                },
                meters);
        batches.write(misconfigured, List.of(request("unconfigured", "u1", doc)));

        assertThat(status(doc)).as("not failed: the serving vectors are there").isEqualTo("embedded");
        assertThat(db.queryValue("select count(*) from generation_refusals where document_id = " + doc))
                .as("configuration is not the model refusing the document")
                .isEqualTo(0L);
        db.execute("update collection_generations set created_at = now() - interval '2 hours' where generation = 2"
                + " and collection_id = (select id from collections where name = 'unconfigured')");
        check(new MigrationSwitcher(batches.pool(), meters, Duration.ZERO, Duration.ZERO));
        assertThat(asked("unconfigured")).as("owed: the sweep asks again").containsExactly("unconfigured/u1");

        batches.write(writer(), takeRequests("unconfigured")); // the configuration mended
        assertThat(vectors("unconfigured", 2)).isEqualTo(2L);
    }

    @Test
    void anEmbeddedDocumentLackingItsServingVectorsIsAskedForAgainAndGetsThem() throws Exception {
        EmbeddingWriter writer = writer();
        collection("holed");
        long doc = batches.chunkedDocument("holed", "h1", 2, "saucers");
        batches.write(writer, List.of(request("holed", "h1", doc)));
        migrate("holed");
        batches.write(writer, List.of(request("holed", "h1", doc))); // the migration's backfill
        // what a write committed across a switch or rollback left: no vector of the serving generation
        db.execute("delete from chunk_embeddings where generation = 1 and chunk_id in (select id from chunks"
                + " where document_id = " + doc + ")");
        check(new MigrationSwitcher(batches.pool(), meters, Duration.ZERO, Duration.ZERO));
        assertThat(asked("holed")).containsExactly("holed/h1");

        batches.write(writer, takeRequests("holed"));

        assertThat(vectors("holed", 1))
                .as("the serving generation's vectors written again")
                .isEqualTo(2L);
        assertThat(vectors("holed", 2)).isEqualTo(2L);
    }

    private static EmbeddingRequest request(String collection, String id, long document) {
        return new EmbeddingRequest(collection, id, document, 1);
    }

    private static void collection(String name) throws Exception {
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions) values ('" + name
                + "', 'openai', 'stub-model', " + DIMENSIONS + ")");
    }

    /** A building generation of {@code stub-next}, as the owner (it builds an index). */
    private static void migrate(String name) throws Exception {
        db.execute("select collection_migrate(id, 'openai', 'stub-next', " + DIMENSIONS
                + ") from collections where name = '" + name + "'");
    }

    private static void check(MigrationSwitcher switcher) throws Exception {
        try (Connection c = batches.pool().getConnection()) { // the worker's login
            switcher.check(c, () -> true);
        }
    }

    private static String status(long document) throws Exception {
        return (String) db.queryValue("select status from documents where id = " + document);
    }

    private static long vectors(String collection, int generation) throws Exception {
        return (long) db.queryValue("select count(*) from chunk_embeddings e join collections k on k.id ="
                + " e.collection_id where k.name = '" + collection + "' and e.generation = " + generation);
    }

    /** The keys of the embedding requests waiting in the outbox for {@code collection}'s documents. */
    private static List<String> asked(String collection) throws Exception {
        List<String> keys = new ArrayList<>();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select key from outbox where topic = 'embedding-requests' and key like '"
                        + collection + "/%' order by key")) {
            while (rs.next()) {
                keys.add(rs.getString(1));
            }
        }
        return keys;
    }

    /** Takes {@code collection}'s embedding requests out of the outbox, as the dispatcher publishes them. */
    private static List<EmbeddingRequest> takeRequests(String collection) throws Exception {
        List<EmbeddingRequest> requests = new ArrayList<>();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("delete from outbox where topic = 'embedding-requests' and key like '"
                        + collection + "/%' returning key, payload::text")) {
            while (rs.next()) {
                requests.add(REQUESTS.decode(rs.getString(1), rs.getString(2).getBytes(StandardCharsets.UTF_8)));
            }
        }
        return requests;
    }
}
