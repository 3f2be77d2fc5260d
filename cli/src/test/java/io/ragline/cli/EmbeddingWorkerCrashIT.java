package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.ingest.IngestWorker;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * embedding-worker as a real process, killed with SIGKILL while it embeds, then started again:
 * every document ends {@code embedded}, and each document's {@code document.embedded} event is
 * written once (the request's offset commits in the same transaction as its vectors).
 */
class EmbeddingWorkerCrashIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final ObjectMapper JSON = new ObjectMapper();

    private static long embedded() throws Exception {
        return (long) db.queryValue("select count(*) from documents where status = 'embedded'");
    }

    /** Fails at once, with the process's output, if it exited. */
    private static boolean alive(JavaProcess p) throws Exception {
        if (!p.process().isAlive()) {
            throw new AssertionError("embedding-worker exited with "
                    + p.process().exitValue() + "\nstdout:\n" + p.stdout() + "\nstderr:\n" + p.stderr());
        }
        return true;
    }

    @Test
    void killedMidBatchAndRestartedEveryDocumentEndsEmbeddedOnce() throws Exception {
        String prefix = "crash" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_OUTBOX_POLL_INTERVAL", "200ms");
        Env e = new Env(env);
        var dispatcher = EventDispatcher.wiring(e);
        var ingest = IngestWorker.wiring(e);
        e.validate();
        try (WorkerRuntime runtime = WorkerRuntime.start("ingest-and-dispatch", 0, e)) {
            dispatcher.accept(runtime);
            ingest.accept(runtime);
            List<Path> texts;
            try (var files = Files.list(Path.of("/usr/share/common-licenses"))) {
                texts = files.filter(Files::isRegularFile).sorted().toList();
            }
            // Each text three times (17 licences on Debian): a worker that embeds faster than the
            // wait below looks must still be killed before the end.
            int copies = 3;
            int documents = copies * texts.size();
            try (KafkaProducer<String, String> producer = KafkaTopics.producer()) {
                for (int copy = 0; copy < copies; copy++) {
                    for (Path p : texts) {
                        String id = p.getFileName().toString() + "-" + copy;
                        String doc = JSON.createObjectNode()
                                .put("op", "upsert")
                                .put("id", id)
                                .put("title", id)
                                .put("content", Files.readString(p))
                                .toString();
                        producer.send(new ProducerRecord<>(prefix + "documents", "default/" + id, doc));
                    }
                }
            }
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> (long) db.queryValue("select count(*) from documents where status = 'chunked'")
                            == documents);

            Map<String, String> workerEnv = new HashMap<>(env);
            workerEnv.put("RAGLINE_HTTP_PORT", "0");
            workerEnv.put("RAGLINE_HTTP_HOST", "127.0.0.1"); // search without a token: this machine only
            workerEnv.put("RAGLINE_MAX_POLL_RECORDS", "1");
            JavaProcess first = JavaProcess.start(List.of(), EmbeddingWorker.class.getName(), workerEnv);
            await().atMost(Duration.ofMinutes(2))
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> alive(first) && embedded() > 0);
            first.kill();
            first.waitFor(20);
            long embeddedAtKill = (long) db.queryValue("select count(*) from documents where status = 'embedded'");
            assertThat(embeddedAtKill).as("killed before the end").isLessThan(documents);

            JavaProcess second = JavaProcess.start(List.of(), EmbeddingWorker.class.getName(), workerEnv);
            await().atMost(Duration.ofMinutes(4)).until(() -> alive(second) && embedded() == documents);
            second.terminate();
            assertThat(second.waitFor(30)).isZero();

            assertThat(
                            (long)
                                    db.queryValue(
                                            "select count(*) from chunks ch where not exists (select 1 from chunk_embeddings e where e.chunk_id = ch.id)"))
                    .isZero();
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
            List<ConsumerRecord<String, String>> events =
                    KafkaTopics.readAll(prefix + "pipeline-events", Duration.ofSeconds(60));
            Map<String, Long> embeddedEvents = events.stream()
                    .filter(r -> r.value().contains("\"document.embedded\""))
                    .collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
            assertThat(embeddedEvents).hasSize(documents);
            assertThat(embeddedEvents.values()).containsOnly(1L);
        }
    }
}
