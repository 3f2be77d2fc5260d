package io.ragline.embedding.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.Env;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.embedding.ProviderRegistry;
import io.ragline.embedding.StubEmbeddingEndpoint;
import io.ragline.embedding.migration.MigrationSwitcher;
import io.ragline.embedding.search.Searcher;
import io.ragline.embeddings.EmbeddingProvider;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A migration's building model whose endpoint accepts the connection and does not answer (a real
 * OpenAI-compatible HTTP server on loopback that holds that model's requests for a minute) holds
 * back nothing served: an embedding-worker running on real Postgres and real Kafka makes documents
 * published to the collection searchable with the serving model within seconds (at most half
 * the held minute, asserted); their building generation's vectors are owed, and the migration's sweep asks for
 * them again, so they are written once the endpoint answers and the migration switches.
 */
class NonServingDeadlineIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Batches batches = new Batches(db);
    static final EmbeddingRequestCodec REQUESTS = new EmbeddingRequestCodec();

    /** How long the worker waits for a non-serving model's call (RAGLINE_EMBEDDING_NONSERVING_DEADLINE). */
    static final String DEADLINE = "1s";

    /**
     * Publish to searchable: the deadline and the serving model's call, with room for a loaded
     * machine; the building model's endpoint holds its answers for a minute (its requests may wait
     * 2 minutes), which the old writer waited for in every batch.
     */
    static final Duration SEARCHABLE_WITHIN = Duration.ofSeconds(30);

    static final int DOCUMENTS = 3;

    @AfterAll
    static void close() {
        batches.close();
    }

    @Test
    void documentsAreSearchableWithinSecondsWhileTheBuildingModelDoesNotAnswerAndGetItsVectorsOnceItDoes()
            throws Exception {
        String id = UUID.randomUUID().toString();
        String topic = "it" + id.substring(0, 8) + "." + EmbeddingWorker.EMBEDDING_REQUESTS;
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8);
                WorkerRuntime runtime = start(id, endpoint);
                KafkaProducer<String, String> producer = KafkaTopics.producer();
                ProviderRegistry models =
                        new ProviderRegistry(EmbeddingSettings.from(env(id, endpoint)), batches.pool())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> ready(runtime) == 200);
            long before = batches.chunkedDocument("live", "d0", 2, "teapots");
            publish(producer, topic, new EmbeddingRequest("live", "d0", before, 1));
            await().atMost(Duration.ofSeconds(30)).until(() -> "embedded".equals(status(before)));
            endpoint.holdModel("stub-slow");
            // its backfill request for d0 waits in the outbox (no event-dispatcher here), so it is incomplete
            db.execute("select collection_migrate(id, 'openai', 'stub-slow', 8) from collections where name = 'live'");
            Searcher searcher = new Searcher(batches.pool(), new CollectionCatalog(Duration.ZERO), models);

            for (int i = 1; i <= DOCUMENTS; i++) {
                String external = "d" + i;
                long document = batches.chunkedDocument("live", external, 2, "kettles " + i);
                long sent = System.nanoTime();
                publish(producer, topic, new EmbeddingRequest("live", external, document, 1));
                await().atMost(SEARCHABLE_WITHIN)
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> "embedded".equals(status(document)));
                Duration took = Duration.ofNanos(System.nanoTime() - sent);
                assertThat(searcher.search("live", "kettles", 10, null))
                        .as(
                                "document %s searchable with the serving model %d ms after it was published",
                                external, took.toMillis())
                        .anySatisfy(hit -> assertThat(hit.documentId()).isEqualTo(external));
            }
            assertThat(endpoint.held())
                    .as("the building model was called, and held")
                    .isPositive();
            assertThat(vectors(2))
                    .as("the building generation's vectors, while its model does not answer")
                    .isZero();
            assertThat(runtime.registry()
                            .get("ragline.migration.owed.documents")
                            .tag("collection", "live")
                            .tag("generation", "2")
                            .counter()
                            .count())
                    .as("document versions whose building vectors are owed")
                    .isEqualTo(DOCUMENTS);

            endpoint.releaseModel(); // the model answers from now on
            sweep();
            List<EmbeddingRequest> asked = takeRequests();
            assertThat(asked)
                    .as("the migrate's backfill of d0, and the sweep's asks for every document whose building"
                            + " vectors are owed")
                    .extracting(EmbeddingRequest::id)
                    .containsExactlyInAnyOrder("d0", "d1", "d2", "d3");
            for (EmbeddingRequest request : asked) {
                publish(producer, topic, request); // as the event-dispatcher publishes the outbox
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> vectors(2) == 2L * (DOCUMENTS + 1));
            await("the worker's switcher finds the migration complete")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> "stub-slow"
                            .equals(db.queryValue("select embedding_model from collections where name = 'live'")));
        }
    }

    @Test
    void anInProcessOnnxBuildingModelHasNoDeadlineSoItsWorkIsNeverThrownAway() throws Exception {
        // A deadline of 1 ms would abandon any call to a model outside the process; an ONNX run
        // cannot be stopped (abandoning it would waste the cores it goes on using), so it is waited for.
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8);
                ProviderRegistry onnx = new ProviderRegistry(
                        EmbeddingSettings.from(new Env(Map.of(EmbeddingSettings.ONNX_THREADS, "1"))), batches.pool())) {
            var serving = endpoint.provider("stub-model");
            EmbeddingWriter writer = new EmbeddingWriter(
                    batches.pool(),
                    new CollectionCatalog(Duration.ZERO),
                    k -> k.provider().equals("onnx") ? onnx.apply(k) : serving,
                    (generation, problem) -> {},
                    new SimpleMeterRegistry(),
                    Duration.ofMillis(1));
            db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions) values"
                    + " ('local', 'openai', 'stub-model', 8)");
            long before = batches.chunkedDocument("local", "l0", 2, "saucers");
            batches.write(writer, List.of(new EmbeddingRequest("local", "l0", before, 1)));
            db.execute("select collection_migrate(id, 'onnx', 'all-MiniLM-L6-v2-q', 384) from collections"
                    + " where name = 'local'");
            long during = batches.chunkedDocument("local", "l1", 20, "cups and saucers");

            batches.write(
                    writer,
                    List.of(
                            new EmbeddingRequest("local", "l0", before, 1), // the migration's backfill
                            new EmbeddingRequest("local", "l1", during, 1)));

            assertThat(status(during)).isEqualTo("embedded");
            assertThat(db.queryValue("select count(*) from chunk_embeddings e join collections k on k.id ="
                            + " e.collection_id where k.name = 'local' and e.generation = 2"))
                    .as("every chunk's vector of the ONNX building generation: none owed")
                    .isEqualTo(22L);
        }
    }

    @Test
    void aBuildingModelThatThrowsAnUnexpectedExceptionOwesItsVectorsAndNeverFailsTheServingBatch() throws Exception {
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8)) {
            var serving = endpoint.provider("stub-model");
            EmbeddingProvider broken = new EmbeddingProvider() {
                @Override
                public String model() {
                    return "broken";
                }

                @Override
                public int dimensions() {
                    return 8;
                }

                @Override
                public int maxTokens() {
                    return 8191;
                }

                @Override
                public List<float[]> embed(List<String> texts) {
                    throw new IllegalStateException("a defect of the building model's provider");
                }

                @Override
                public float[] embedQuery(String text) {
                    throw new IllegalStateException("not searched");
                }

                @Override
                public void close() {}
            };
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            EmbeddingWriter writer = new EmbeddingWriter(
                    batches.pool(),
                    new CollectionCatalog(Duration.ZERO),
                    k -> k.model().equals("broken") ? broken : serving,
                    (generation, problem) -> {},
                    registry,
                    Duration.ofSeconds(10));
            db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions) values"
                    + " ('odd', 'openai', 'stub-model', 8)");
            db.execute("select collection_migrate(id, 'openai', 'broken', 8) from collections where name = 'odd'");
            long document = batches.chunkedDocument("odd", "o1", 3, "jugs");

            batches.write(writer, List.of(new EmbeddingRequest("odd", "o1", document, 1)));

            assertThat(status(document)).isEqualTo("embedded");
            assertThat(db.queryValue("select count(*) from chunk_embeddings e join collections k on k.id ="
                            + " e.collection_id where k.name = 'odd' and e.generation = 1"))
                    .as("the serving generation's vectors")
                    .isEqualTo(3L);
            assertThat(db.queryValue("select count(*) from chunk_embeddings e join collections k on k.id ="
                            + " e.collection_id where k.name = 'odd' and e.generation = 2"))
                    .as("the building generation's vectors")
                    .isEqualTo(0L);
            assertThat(registry.get("ragline.migration.owed.documents")
                            .tag("collection", "odd")
                            .tag("generation", "2")
                            .counter()
                            .count())
                    .as("the building generation's vectors of the document are owed")
                    .isEqualTo(1.0);
        }
    }

    private static Env env(String id, StubEmbeddingEndpoint endpoint) {
        Map<String, String> values = new HashMap<>(db.env());
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.put("RAGLINE_HTTP_PORT", "0");
        values.put("RAGLINE_HTTP_HOST", "127.0.0.1");
        values.put("RAGLINE_GROUP_PREFIX", "it-" + id);
        values.put("RAGLINE_TOPIC_PREFIX", "it" + id.substring(0, 8) + ".");
        values.put("RAGLINE_EMBEDDING_PROVIDER", "openai");
        values.put("RAGLINE_OPENAI_BASE_URL", endpoint.baseUrl().toString());
        values.put("RAGLINE_OPENAI_API_KEY", "sk-stub");
        values.put("RAGLINE_OPENAI_MAX_ATTEMPTS", "1");
        values.put("RAGLINE_OPENAI_TIMEOUT", "2m"); // the held minute is not cut by the client
        values.put("RAGLINE_EMBEDDING_NONSERVING_DEADLINE", DEADLINE);
        return new Env(values);
    }

    /** An embedding-worker whose one collection, 'live', serves the endpoint's stub-model. */
    private static WorkerRuntime start(String id, StubEmbeddingEndpoint endpoint) throws Exception {
        Env env = env(id, endpoint);
        var wiring = EmbeddingWorker.wiring(env, "RAGLINE_HTTP_PORT", 0);
        db.execute("delete from collections"); // the seeded 'default' one: no ONNX model to load
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions) values"
                + " ('live', 'openai', 'stub-model', 8)");
        WorkerRuntime runtime = WorkerRuntime.start("test-nonserving-deadline", 0, env);
        try {
            wiring.accept(runtime);
            runtime.markStarted();
            return runtime;
        } catch (RuntimeException | Error e) {
            runtime.close();
            throw e;
        }
    }

    private static void publish(KafkaProducer<String, String> producer, String topic, EmbeddingRequest request)
            throws Exception {
        producer.send(new ProducerRecord<>(topic, REQUESTS.key(request), REQUESTS.encode(request)))
                .get();
    }

    /**
     * One pass of the migration's sweep, asking at once (no grace, no wait), on the worker's login.
     * The runtime's own switcher may have swept the collection since its migration began (its pass
     * asks nothing of a generation younger than 5 minutes, but sets the next pass 30 s away for
     * every worker, generation_sweeps) or hold its lock this instant: the due time is put back to
     * now and the pass made again until one of this test's passes ran.
     */
    private static void sweep() throws Exception {
        MigrationSwitcher eager = new MigrationSwitcher(batches.pool(), meters, Duration.ZERO, Duration.ZERO);
        await().alias("a pass of the test's own sweep")
                .atMost(Duration.ofSeconds(10))
                .until(() -> {
                    double before = passes();
                    db.execute("update generation_sweeps set due_at = now()");
                    try (Connection c = batches.pool().getConnection()) {
                        eager.check(c, () -> true);
                    }
                    return passes() > before;
                });
    }

    private static final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private static double passes() {
        return meters.get(MigrationSwitcher.SWEEP_TIMER).timer().count();
    }

    /** Takes the embedding requests of 'live' out of the outbox, as the event-dispatcher publishes them. */
    private static List<EmbeddingRequest> takeRequests() throws Exception {
        List<EmbeddingRequest> requests = new ArrayList<>();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "delete from outbox where topic = 'embedding-requests' and key like 'live/%' returning key, payload::text")) {
            while (rs.next()) {
                requests.add(REQUESTS.decode(rs.getString(1), rs.getString(2).getBytes(StandardCharsets.UTF_8)));
            }
        }
        return requests;
    }

    private static String status(long document) throws Exception {
        return (String) db.queryValue("select status from documents where id = " + document);
    }

    private static long vectors(int generation) throws Exception {
        return (long) db.queryValue("select count(*) from chunk_embeddings where generation = " + generation);
    }

    private static int ready(WorkerRuntime runtime) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.adminPort() + "/health/ready"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .statusCode();
    }
}
