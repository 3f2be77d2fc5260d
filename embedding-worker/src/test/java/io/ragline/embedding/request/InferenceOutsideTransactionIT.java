package io.ragline.embedding.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.embedding.StubEmbeddingEndpoint;
import io.ragline.embeddings.openai.OpenAiEmbeddingProvider;
import io.ragline.testkit.PostgresSchema;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link EmbeddingWriter} through the consumer's sink on real Postgres, with a real
 * OpenAI-compatible endpoint that holds its answer until the test lets it: the model runs with no
 * row lock held (the ingest-worker can write a new version meanwhile), and vectors of a version
 * that became obsolete while it ran are dropped.
 */
class InferenceOutsideTransactionIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final int DIMENSIONS = 8;
    static StubEmbeddingEndpoint endpoint;
    static OpenAiEmbeddingProvider provider;
    static final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static EmbeddingWriter writer;
    static final Batches batches = new Batches(db);

    @BeforeAll
    static void start() throws Exception {
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions)"
                + " values ('remote', 'openai', 'stub-model', " + DIMENSIONS + ")");
        endpoint = new StubEmbeddingEndpoint(DIMENSIONS);
        provider = endpoint.provider("stub-model");
        writer = new EmbeddingWriter(
                batches.pool(), new CollectionCatalog(Duration.ofMinutes(10)), collection -> provider, registry);
    }

    @AfterAll
    static void stop() {
        batches.close();
        if (endpoint != null) {
            endpoint.close();
        }
    }

    @Test
    void aDocumentUpdatedWhileItsPreviousVersionIsEmbeddedEndsWithTheNewVersionsVectorsOnly() throws Exception {
        long document = batches.chunkedDocument("remote", "moving", 3, "tea and kettles");
        List<Long> firstChunks = chunkIds(document);
        double obsoleteBefore = outcome("obsolete");

        whileEmbedding(new EmbeddingRequest("remote", "moving", document, 1), () -> {
            // Would wait for the document's row lock (and time out) if the model ran in the transaction.
            batches.newVersion(document, 2, 2, "kettles and tea");
            assertThat(batches.pool().getHikariPoolMXBean().getActiveConnections())
                    .as("no pooled connection is held while the model runs")
                    .isZero();
            assertThat(db.queryValue("select count(*) from pg_stat_activity where application_name ="
                            + " 'ragline-batches-it' and state <> 'idle'"))
                    .as("no transaction of the writer is open while the model runs")
                    .isEqualTo(0L);
        });

        assertThat(outcome("obsolete")).isEqualTo(obsoleteBefore + 1);
        assertThat(db.queryValue("select count(*) from chunk_embeddings where chunk_id = any(array" + firstChunks
                        + "::bigint[])"))
                .as("no vector of version 1")
                .isEqualTo(0L);
        assertThat(db.queryValue("select status from documents where id = " + document))
                .isEqualTo("chunked");

        batches.write(writer, List.of(new EmbeddingRequest("remote", "moving", document, 2)));

        assertThat(db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id = e.chunk_id"
                        + " where ch.document_id = " + document + " and ch.document_version = 2"))
                .isEqualTo(2L);
        assertThat(db.queryValue("select count(*) from chunk_embeddings e where not exists"
                        + " (select 1 from chunks ch where ch.id = e.chunk_id)"))
                .as("no vector without its chunk")
                .isEqualTo(0L);
        assertThat(db.queryValue("select status || ' ' || version from documents where id = " + document))
                .isEqualTo("embedded 2");
        assertThat(db.queryValue("select string_agg(payload->>'version', ',') from outbox where key = 'remote/moving'"
                        + " and payload->>'type' = 'document.embedded'"))
                .isEqualTo("2");
    }

    /**
     * Updates that keep chunks (issue 17): version 2 keeps two of version 1's chunks and adds one;
     * while only that one is in the model, version 3 keeps one of the kept chunks, drops the other
     * and the new one, and adds another. Each chunk must end with exactly its own vector, the kept
     * one never computed again, and no vector without its chunk.
     */
    @Test
    void anUpdateKeepingChunksWhileTheVersionBeforeIsEmbeddedEndsWithOneVectorPerChunk() throws Exception {
        long document = batches.chunkedDocument("remote", "keeping", 3, "maps and compasses");
        batches.write(writer, List.of(new EmbeddingRequest("remote", "keeping", document, 1)));
        List<Long> first = chunkIds(document);
        Object keptVector =
                db.queryValue("select embedding::text from chunk_embeddings where chunk_id = " + first.get(0));
        batches.newVersionKeeping(document, 2, first.subList(0, 2), 1, "sextants");
        int inputsBefore = inputs();

        whileEmbedding(
                new EmbeddingRequest("remote", "keeping", document, 2),
                () -> batches.newVersionKeeping(document, 3, first.subList(0, 1), 1, "astrolabes"));

        assertThat(db.queryValue("select status from documents where id = " + document))
                .as("version 2's batch found version 3 under the lock")
                .isEqualTo("chunked");
        batches.write(writer, List.of(new EmbeddingRequest("remote", "keeping", document, 3)));

        assertThat(db.queryValue("select status || ' ' || version from documents where id = " + document))
                .isEqualTo("embedded 3");
        assertThat(db.queryValue("select count(*) from chunks ch where ch.document_id = " + document
                        + " and (select count(*) from chunk_embeddings e where e.chunk_id = ch.id) <> 1"))
                .as("chunks without exactly one vector")
                .isEqualTo(0L);
        assertThat(db.queryValue("select count(*) from chunks where document_id = " + document))
                .isEqualTo(2L);
        assertThat(db.queryValue("select embedding::text from chunk_embeddings where chunk_id = " + first.get(0)))
                .as("the chunk kept through both updates keeps its first vector")
                .isEqualTo(keptVector);
        assertThat(db.queryValue("select count(*) from chunk_embeddings e where not exists"
                        + " (select 1 from chunks ch where ch.id = e.chunk_id)"))
                .as("no vector without its chunk")
                .isEqualTo(0L);
        assertThat(inputs() - inputsBefore)
                .as("texts sent to the model: version 2's new chunk, then version 3's, never a kept one")
                .isEqualTo(2);
    }

    @Test
    void aDocumentDeletedWhileItIsEmbeddedGetsNoVectors() throws Exception {
        long document = batches.chunkedDocument("remote", "going", 2, "tea");
        double obsoleteBefore = outcome("obsolete");

        whileEmbedding(new EmbeddingRequest("remote", "going", document, 1), () -> {
            db.execute("delete from chunks where document_id = " + document);
            db.execute("update documents set status = 'deleted', version = 2 where id = " + document);
        });

        assertThat(outcome("obsolete")).isEqualTo(obsoleteBefore + 1);
        assertThat(db.queryValue("select status from documents where id = " + document))
                .isEqualTo("deleted");
        assertThat(db.queryValue("select count(*) from chunk_embeddings")).isEqualTo(vectorsOfOthers());
        assertThat(db.queryValue("select count(*) from outbox where key = 'remote/going'"))
                .isEqualTo(0L);
    }

    @Test
    void aDocumentWhoseCollectionIsPausedWhileItIsEmbeddedStaysWaiting() throws Exception {
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions)"
                + " values ('held', 'openai', 'stub-model', " + DIMENSIONS + ")");
        long document = batches.chunkedDocument("held", "waiting", 2, "tea");
        double pausedBefore = outcome("paused");

        whileEmbedding(new EmbeddingRequest("held", "waiting", document, 1), () -> {
            db.execute("update collections set status = 'paused' where name = 'held'");
        });

        assertThat(outcome("paused")).isEqualTo(pausedBefore + 1);
        assertThat(db.queryValue("select status from documents where id = " + document))
                .isEqualTo("chunked");
        assertThat(db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id = e.chunk_id"
                        + " where ch.document_id = " + document))
                .isEqualTo(0L);
    }

    @Test
    void aBatchDeliveredAgainEmbedsADocumentThroughItsNewestRecord() throws Exception {
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions, status)"
                + " values ('resumed', 'openai', 'stub-model', " + DIMENSIONS + ", 'paused')");
        long document = batches.chunkedDocument("resumed", "again", 3, "tea");
        EmbeddingRequest request = new EmbeddingRequest("resumed", "again", document, 1);
        long first = batches.nextOffset();
        batches.write(writer, List.of(request)); // applied while paused: its offset is stored, the document waits
        assertThat(db.queryValue("select next_offset from consumer_offsets where group_id = 'batches-it'"))
                .isEqualTo(first + 1);
        assertThat(db.queryValue("select status from documents where id = " + document))
                .isEqualTo("chunked");
        db.execute("update collections set status = 'active' where name = 'resumed'");

        // The first record again (its offset stored: the sink leaves it out) and the resume's new request.
        batches.writeFrom(first, writer, List.of(request, request));

        assertThat(db.queryValue("select status from documents where id = " + document))
                .isEqualTo("embedded");
        assertThat(db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id = e.chunk_id"
                        + " where ch.document_id = " + document))
                .isEqualTo(3L);
        assertThat(db.queryValue("select count(*) from outbox where key = 'resumed/again'"
                        + " and payload->>'type' = 'document.embedded'"))
                .isEqualTo(1L);
        assertThat(db.queryValue("select next_offset from consumer_offsets where group_id = 'batches-it'"))
                .isEqualTo(first + 2);
    }

    interface Change {
        void run() throws Exception;
    }

    /**
     * Writes {@code request} as one batch, and runs {@code change} while the model computes its
     * vectors (the endpoint holds its answer until the change is done).
     */
    private static void whileEmbedding(EmbeddingRequest request, Change change) throws Exception {
        CountDownLatch embedding = new CountDownLatch(1);
        CountDownLatch changed = new CountDownLatch(1);
        endpoint.beforeAnswer(() -> {
            embedding.countDown();
            try {
                changed.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            CompletableFuture<Void> batch = CompletableFuture.runAsync(() -> {
                try {
                    batches.write(writer, List.of(request));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(embedding.await(30, TimeUnit.SECONDS))
                    .as("the request is being embedded")
                    .isTrue();
            try {
                change.run();
            } finally {
                changed.countDown();
            }
            batch.get(30, TimeUnit.SECONDS);
        } finally {
            endpoint.beforeAnswer(() -> {});
        }
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(
                        () -> assertThat(batches.pool().getHikariPoolMXBean().getActiveConnections())
                                .isZero());
    }

    private static int inputs() {
        return endpoint.inputsPerRequest().stream().mapToInt(Integer::intValue).sum();
    }

    private static long vectorsOfOthers() throws Exception {
        return (long) db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id = e.chunk_id");
    }

    private static List<Long> chunkIds(long document) throws Exception {
        try (var c = db.connect();
                var s = c.createStatement();
                var rs = s.executeQuery("select id from chunks where document_id = " + document + " order by id")) {
            List<Long> ids = new java.util.ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
            return ids;
        }
    }

    private static double outcome(String outcome) {
        return registry.get("ragline.embedding.requests")
                .tag("outcome", outcome)
                .counter()
                .count();
    }
}
