package io.ragline.embedding.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.DeadLetters;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.embedding.StubEmbeddingEndpoint;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
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
 * The embedding-worker with overlapped writes on (a batch's transaction on the writer
 * thread while the next batch is read and embedded) on real Postgres and Kafka, its transactions
 * killed with {@code pg_terminate_backend} while they write the vectors: every document ends
 * embedded once, each chunk with one vector, one {@code document.embedded} per document, nothing
 * dead-lettered.
 */
class OverlappedWritesEmbeddingIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Batches batches = new Batches(db);
    static final EmbeddingRequestCodec REQUESTS = new EmbeddingRequestCodec();
    static final int DOCUMENTS = 120;
    static final int CHUNKS = 3;

    @AfterAll
    static void close() {
        batches.close();
    }

    @Test
    void transactionsKilledWhileTheyWriteVectorsLeaveEveryDocumentEmbeddedOnceWithOneVectorPerChunk() throws Exception {
        String id = UUID.randomUUID().toString();
        String prefix = "it" + id.substring(0, 8) + ".";
        String topic = prefix + EmbeddingWorker.EMBEDDING_REQUESTS;
        KafkaTopics.createNamed(topic, 2);
        // Each batch's vector COPY takes a while, so that a transaction can be found and killed mid-write.
        db.execute("create function slow_vectors() returns trigger language plpgsql as"
                + " $$ begin perform pg_sleep(0.15); return null; end $$");
        db.execute("create trigger slow_vectors after insert on chunk_embeddings"
                + " for each statement execute function slow_vectors()");
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8);
                WorkerRuntime runtime = start(id, prefix, endpoint);
                KafkaProducer<String, String> producer = KafkaTopics.producer()) {
            List<EmbeddingRequest> requests = new ArrayList<>();
            for (int i = 0; i < DOCUMENTS; i++) {
                long document = batches.chunkedDocument("live", "d" + i, CHUNKS, "kettles " + i);
                requests.add(new EmbeddingRequest("live", "d" + i, document, 1));
            }
            for (EmbeddingRequest r : requests) {
                producer.send(new ProducerRecord<>(topic, REQUESTS.key(r), REQUESTS.encode(r)));
            }
            producer.flush();

            int killed = 0;
            for (int attempt = 0; attempt < 50 && killed < 3 && embedded() < DOCUMENTS; attempt++) {
                killed += killWriting();
            }
            await().atMost(Duration.ofMinutes(3)).until(() -> embedded() == DOCUMENTS);

            assertThat(killed).as("transactions killed while writing vectors").isPositive();
            assertThat(db.queryValue("select count(*) from chunk_embeddings")).isEqualTo((long) DOCUMENTS * CHUNKS);
            assertThat(db.queryValue("select count(*) from chunks c where (select count(*) from chunk_embeddings e"
                            + " where e.chunk_id = c.id) <> 1"))
                    .as("chunks without exactly one vector")
                    .isEqualTo(0L);
            assertThat(db.queryValue("select count(*) from outbox where payload->>'type' = 'document.embedded'"))
                    .as("document.embedded events")
                    .isEqualTo((long) DOCUMENTS);
            assertThat(db.queryValue(
                            "select count(distinct key) from outbox where payload->>'type' = 'document.embedded'"))
                    .isEqualTo((long) DOCUMENTS);
            assertThat(KafkaTopics.endOffsets(DeadLetters.topicOf(topic)).values().stream()
                            .mapToLong(Long::longValue)
                            .sum())
                    .as("dead letters")
                    .isZero();
            assertThat(runtime.registry().scrape())
                    .containsPattern("ragline_consumer_failures_total\\{[^}]*kind=\"transient\"[^}]*} [1-9]")
                    .contains("ragline_consumer_write_wait_seconds_count{");
        }
    }

    /** Kills the worker's transaction writing vectors, if one does within a second; 1 when it did. */
    private static int killWriting() {
        try {
            await().atMost(Duration.ofSeconds(1))
                    .pollInterval(Duration.ofMillis(10))
                    .until(() -> ((Number) db.queryValue("select count(pg_terminate_backend(pid)) from"
                                            + " pg_stat_activity where datname = current_database() and pid <>"
                                            + " pg_backend_pid() and state = 'active' and query ilike"
                                            + " 'copy %chunk_embeddings%'"))
                                    .longValue()
                            > 0);
            return 1;
        } catch (org.awaitility.core.ConditionTimeoutException none) {
            return 0;
        }
    }

    private static long embedded() throws Exception {
        return (long) db.queryValue("select count(*) from documents where status = 'embedded'");
    }

    /** An embedding-worker whose one collection, 'live', serves the endpoint's stub-model. */
    private static WorkerRuntime start(String id, String prefix, StubEmbeddingEndpoint endpoint) throws Exception {
        Map<String, String> values = new HashMap<>(db.env());
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.put("RAGLINE_HTTP_PORT", "0");
        values.put("RAGLINE_HTTP_HOST", "127.0.0.1");
        values.put("RAGLINE_GROUP_PREFIX", "it-" + id);
        values.put("RAGLINE_TOPIC_PREFIX", prefix);
        values.put("RAGLINE_EMBEDDING_PROVIDER", "openai");
        values.put("RAGLINE_OPENAI_BASE_URL", endpoint.baseUrl().toString());
        values.put("RAGLINE_OPENAI_API_KEY", "sk-stub");
        values.put("RAGLINE_EMBEDDING_MAX_REQUESTS", "4");
        values.put(EmbeddingWorker.OVERLAP_WRITES, "true");
        values.put("RAGLINE_RETRY_BACKOFF_INITIAL", "50ms");
        values.put("RAGLINE_RETRY_BACKOFF_MAX", "200ms");
        Env env = new Env(values);
        var wiring = EmbeddingWorker.wiring(env, "RAGLINE_HTTP_PORT", 0);
        db.execute("delete from collections"); // the seeded 'default' one: no ONNX model to load
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions) values"
                + " ('live', 'openai', 'stub-model', 8)");
        WorkerRuntime runtime = WorkerRuntime.start("test-overlapped-embedding", 0, env);
        try {
            wiring.accept(runtime);
            runtime.markStarted();
            return runtime;
        } catch (RuntimeException | Error e) {
            runtime.close();
            throw e;
        }
    }
}
