package io.ragline.embedding.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.core.db.Database;
import io.ragline.embedding.StubEmbeddingEndpoint;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.embeddings.pgml.PgmlEmbeddingProvider;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The bounds of a building model's calls that hang (real Postgres; the building model is a provider
 * whose calls wait until the test lets each go, as an endpoint that accepts and does not answer):
 * every abandoned call still running keeps its model's later jobs owed at once, calls a failed
 * batch threw away are interrupted (and such a call that was creating its provider is not the
 * model's failure), and the calls' threads are sized from the consumer threads.
 */
class NonServingCallsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Batches batches = new Batches(db);

    /**
     * Long enough for two batches read side by side to both start their call, and for a write that
     * calls nothing to end well within it, on a loaded machine too.
     */
    static final Duration DEADLINE = Duration.ofSeconds(5);

    @AfterAll
    static void close() {
        batches.close();
    }

    @Test
    void aModelStaysOwedUntilEveryAbandonedCallOfItEndsNotJustTheLastOne() throws Exception {
        HeldModel hung = new HeldModel(2);
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8)) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            EmbeddingWriter writer = writer(registry, endpoint.provider("stub-model"), hung);
            long a = migrating("stuck", "a");
            long b = batches.chunkedDocument("stuck", "b", 2, "bowls");

            // Two consumer threads, each with a batch: both call the model, both calls are abandoned.
            CompletableFuture<?> first = CompletableFuture.runAsync(() -> prepare(writer, 100, "stuck", "a", a));
            CompletableFuture<?> second = CompletableFuture.runAsync(() -> prepare(writer, 200, "stuck", "b", b));
            first.get(30, TimeUnit.SECONDS);
            second.get(30, TimeUnit.SECONDS);
            assertThat(hung.calls).as("both batches called the model").hasValue(2);
            assertThat(stuck(registry)).isEqualTo(2.0);
            double computed = computed(registry); // the serving vectors of a and b

            hung.release(2); // the second abandoned call ends; the first still hangs
            await().atMost(Duration.ofSeconds(10)).until(() -> stuck(registry) == 1.0);
            assertThat(computed(registry))
                    .as("an abandoned call's vectors, never written, are not counted when it answers")
                    .isEqualTo(computed);
            long c = batches.chunkedDocument("stuck", "c", 2, "basins");
            long startedAt = System.nanoTime();
            batches.write(writer, List.of(new EmbeddingRequest("stuck", "c", c, 1)));
            assertThat(Duration.ofNanos(System.nanoTime() - startedAt))
                    .as("owed at once, without waiting the deadline")
                    .isLessThan(DEADLINE);
            assertThat(hung.calls)
                    .as("no call on a model with an abandoned call still running")
                    .hasValue(2);
            assertThat(vectors("stuck", 2)).isZero();

            hung.release(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> stuck(registry) == 0.0);
            batches.write(writer, List.of(new EmbeddingRequest("stuck", "c", c, 1)));
            assertThat(hung.calls)
                    .as("called again once every abandoned call ended")
                    .hasValue(3);
            assertThat(vectors("stuck", 2)).as("c's building vectors").isEqualTo(2L);
            writer.close();
        }
    }

    @Test
    void aBuildingCallOfABatchWhoseServingModelFailsIsInterruptedNotLeftRunning() throws Exception {
        HeldModel hung = new HeldModel(1);
        EmbeddingProvider unavailable = new HeldModel(0) {
            @Override
            public List<float[]> embed(List<String> texts) {
                // the building call started first (it runs beside this one): fail while it hangs
                await().atMost(Duration.ofSeconds(10)).until(() -> hung.calls.get() > 0);
                throw new EmbeddingException("503 from the serving endpoint", true);
            }
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        EmbeddingWriter writer = writer(registry, unavailable, hung);
        long a = migrating("retried", "a");

        assertThatThrownBy(() -> batches.write(writer, List.of(new EmbeddingRequest("retried", "a", a, 1))))
                .hasStackTraceContaining("503 from the serving endpoint");

        await().atMost(Duration.ofSeconds(10)).until(() -> hung.interrupted.get() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> stuck(registry) == 0.0);
        writer.close();
    }

    @Test
    void twoConsumerThreadsCallingOneHealthyBuildingModelSideBySideOweNothing() throws Exception {
        // RAGLINE_CONSUMER_THREADS=2: each thread's batch calls the building model, and the two
        // calls run at once; neither passed its deadline, so neither batch may owe the other's model.
        HeldModel both = new HeldModel(2);
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8)) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            Duration roomy = Duration.ofSeconds(20); // both calls start well within it on a loaded machine
            EmbeddingWriter writer = writer(registry, endpoint.provider("stub-model"), both, roomy);
            long a = migrating("shared", "a");
            long b = batches.chunkedDocument("shared", "b", 2, "bowls");

            CompletableFuture<Runnable> first =
                    CompletableFuture.supplyAsync(() -> prepare(writer, 300, "shared", "a", a));
            CompletableFuture<Runnable> second =
                    CompletableFuture.supplyAsync(() -> prepare(writer, 400, "shared", "b", b));
            await().atMost(roomy).until(() -> both.calls.get() == 2); // both under way at once
            both.release(1);
            both.release(2);
            first.get(30, TimeUnit.SECONDS).run();
            second.get(30, TimeUnit.SECONDS).run();

            assertThat(registry.get("ragline.embedding.nonserving.calls.abandoned")
                            .counter()
                            .count())
                    .isZero();
            assertThat(registry.find("ragline.migration.owed.documents").counters())
                    .as("nothing owed")
                    .allSatisfy(c -> assertThat(c.count()).isZero());
            assertThat(vectors("shared", 2))
                    .as("the building vectors of a and b")
                    .isEqualTo(4L);
            writer.close();
        }
    }

    @Test
    void aHealthyBuildingModelIsCalledInTheProvidersOwnBatchesNotInSmallerSlices() throws Exception {
        // RAGLINE_EMBEDDING_BATCH_SIZE (64): one request of the document's 40 texts per model, as the
        // serving model makes; slices of 16 made a building model send three, taking three permits.
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8)) {
            var building = endpoint.provider("stub-next");
            EmbeddingWriter writer = new EmbeddingWriter(
                    batches.pool(),
                    new CollectionCatalog(Duration.ZERO),
                    k -> k.model().equals("held") ? building : endpoint.provider("stub-model"),
                    (generation, problem) -> {},
                    new SimpleMeterRegistry(),
                    DEADLINE,
                    EmbeddingSettings.DEFAULT_BATCH_SIZE);
            migrating("whole", "w0");
            long document = batches.chunkedDocument("whole", "w1", 40, "pitchers");

            batches.write(writer, List.of(new EmbeddingRequest("whole", "w1", document, 1)));

            assertThat(vectors("whole", 2)).as("the building vectors of w1").isEqualTo(40L);
            assertThat(endpoint.inputsPerRequest())
                    .as("texts per request: the serving model's, the building model's")
                    .containsExactlyInAnyOrder(40, 40);
            writer.close();
        }
    }

    @Test
    void moreConsumerThreadsThanSixteenCallOneHealthyBuildingModelSideBySideAndOweNothing() throws Exception {
        // RAGLINE_CONSUMER_THREADS=3 and 17 batches under way at once, each calling the building
        // model: a fixed pool of 16 threads refused the 17th call, and its healthy vectors were owed.
        int batchesAtOnce = 17;
        HeldModel all = new HeldModel(batchesAtOnce);
        ExecutorService consumers = Executors.newFixedThreadPool(batchesAtOnce);
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8)) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            EmbeddingProvider serving = endpoint.provider("stub-model");
            EmbeddingWriter writer = new EmbeddingWriter(
                    batches.pool(),
                    new CollectionCatalog(Duration.ZERO),
                    k -> k.model().equals("held") ? all : serving,
                    (generation, problem) -> {},
                    registry,
                    Duration.ofSeconds(30), // every call starts well within it on a loaded machine
                    EmbeddingSettings.DEFAULT_BATCH_SIZE,
                    3);
            long first = migrating("crowded", "d0");
            List<Future<Runnable>> prepared = new ArrayList<>();
            for (int i = 0; i < batchesAtOnce; i++) {
                long document = i == 0 ? first : batches.chunkedDocument("crowded", "d" + i, 2, "cups");
                long offset = 1000 + i;
                String id = "d" + i;
                prepared.add(consumers.submit(() -> prepare(writer, offset, "crowded", id, document)));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> all.calls.get() == batchesAtOnce);
            for (int n = 1; n <= batchesAtOnce; n++) {
                all.release(n);
            }
            for (Future<Runnable> p : prepared) {
                p.get(30, TimeUnit.SECONDS).run();
            }

            assertThat(registry.find("ragline.migration.owed.documents").counters())
                    .as("nothing owed")
                    .allSatisfy(c -> assertThat(c.count()).isZero());
            assertThat(vectors("crowded", 2))
                    .as("the building vectors of every document")
                    .isEqualTo(2L * batchesAtOnce);
            writer.close();
        } finally {
            consumers.shutdownNow();
        }
    }

    @Test
    void aModelCreationInterruptedWithItsBatchIsTriedAgainNotReportedAsUnableToRun() throws Exception {
        // The building model is pgml's, created on first use: the check of the extension waits for a
        // connection of a pool the test holds, and the serving model fails meanwhile, so the batch is
        // retried and its building call interrupted. That says nothing of the model; the next batch
        // creates it again (and finds, on this Postgres, that pgml is not installed).
        List<String> unableToRun = new CopyOnWriteArrayList<>();
        try (HikariDataSource held = Database.pool(
                        DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), 1, "held-it", null);
                StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8)) {
            AtomicBoolean failServing = new AtomicBoolean(true);
            EmbeddingProvider healthy = endpoint.provider("stub-model");
            EmbeddingProvider serving = new HeldModel(0) {
                @Override
                public String model() {
                    return healthy.model();
                }

                @Override
                public List<float[]> embed(List<String> texts) {
                    if (!failServing.get()) {
                        return healthy.embed(texts);
                    }
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> held.getHikariPoolMXBean().getThreadsAwaitingConnection() == 1);
                    throw new EmbeddingException("503 from the serving endpoint", true);
                }
            };
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            EmbeddingWriter writer = new EmbeddingWriter(
                    batches.pool(),
                    new CollectionCatalog(Duration.ZERO),
                    k -> k.model().equals("held") ? PgmlEmbeddingProvider.connect(held, "held", 8, 512) : serving,
                    (generation, problem) -> unableToRun.add(problem),
                    registry,
                    Duration.ofSeconds(30));
            long a = migrating("creating", "a");
            try (Connection taken = held.getConnection()) {
                assertThatThrownBy(() -> batches.write(writer, List.of(new EmbeddingRequest("creating", "a", a, 1))))
                        .hasStackTraceContaining("503 from the serving endpoint");
                await().atMost(Duration.ofSeconds(10)).until(() -> stuck(registry) == 0.0);
            }
            assertThat(unableToRun)
                    .as("an interrupted creation is not the model's problem")
                    .isEmpty();

            failServing.set(false);
            batches.write(writer, List.of(new EmbeddingRequest("creating", "a", a, 1)));
            assertThat(unableToRun).as("created again by the next batch").hasSize(1);
            assertThat(unableToRun.get(0)).contains("\"pgml\" is not installed");
            writer.close();
        }
    }

    /** A writer whose serving model is {@code serving} and whose building model is {@code building}. */
    private static EmbeddingWriter writer(
            SimpleMeterRegistry registry, EmbeddingProvider serving, EmbeddingProvider building) {
        return writer(registry, serving, building, DEADLINE);
    }

    /** As above, waiting {@code deadline} for each answer of the building model. */
    private static EmbeddingWriter writer(
            SimpleMeterRegistry registry, EmbeddingProvider serving, EmbeddingProvider building, Duration deadline) {
        return new EmbeddingWriter(
                batches.pool(),
                new CollectionCatalog(Duration.ZERO),
                k -> k.model().equals("held") ? building : serving,
                (generation, problem) -> {},
                registry,
                deadline);
    }

    /** Collection {@code name} (serving stub-model) migrating to the held model, with document {@code id}. */
    private static long migrating(String name, String id) throws Exception {
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions) values ('" + name
                + "', 'openai', 'stub-model', 8)");
        db.execute("select collection_migrate(id, 'openai', 'held', 8) from collections where name = '" + name + "'");
        return batches.chunkedDocument(name, id, 2, "jugs");
    }

    /**
     * Embeds a batch of one request as a consumer thread does before it writes; the batch is written
     * (in a transaction of its own) only when the returned step runs.
     */
    private static Runnable prepare(EmbeddingWriter writer, long offset, String collection, String id, long document) {
        List<InboundRecord<EmbeddingRequest>> records = List.of(new InboundRecord<>(
                new ConsumerRecord<>("embedding-requests", 0, offset, new byte[0], new byte[0]),
                new EmbeddingRequest(collection, id, document, 1)));
        try {
            var prepared = writer.prepare(records);
            return () -> {
                try (Connection c = batches.pool().getConnection()) {
                    c.setAutoCommit(false);
                    prepared.write(records, c);
                    c.commit();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static double computed(SimpleMeterRegistry registry) {
        return registry.get("ragline.embedding.vectors")
                .tag("outcome", "computed")
                .counter()
                .count();
    }

    private static double stuck(SimpleMeterRegistry registry) {
        return registry.get("ragline.embedding.nonserving.calls.stuck").gauge().value();
    }

    private static long vectors(String collection, int generation) throws Exception {
        return (long) db.queryValue("select count(*) from chunk_embeddings e join collections k on k.id ="
                + " e.collection_id where k.name = '" + collection + "' and e.generation = " + generation);
    }
}
