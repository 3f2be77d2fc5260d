package io.ragline.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * training-worker as a real process, killed with SIGKILL while a job runs, then another started:
 * the job does not stay {@code running}. Its request was not committed, so it comes to the new
 * worker, which finds the row's heartbeat stale and (policy {@code retry}) runs it again to the end:
 * succeeded, attempt 2, one model, one event.
 */
class TrainingWorkerCrashIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static boolean alive(JavaProcess p) throws Exception {
        if (!p.process().isAlive()) {
            throw new AssertionError("training-worker exited with "
                    + p.process().exitValue() + "\nstdout:\n" + p.stdout() + "\nstderr:\n" + p.stderr());
        }
        return true;
    }

    private static Object value(String sql) throws Exception {
        return db.queryValue(sql);
    }

    /**
     * A training-worker process, once it is ready: its start-up check found the schema the owner
     * migrated before the tests ({@code PostgresSchema(false)}) current, and its consumers run.
     */
    private static JavaProcess startReady(Map<String, String> env) throws Exception {
        JavaProcess worker = JavaProcess.start(List.of(), TrainingWorker.class.getName(), env);
        await().atMost(Duration.ofMinutes(1))
                .until(() -> alive(worker) && worker.stdout().contains(TrainingWorker.NAME + " ready"));
        return worker;
    }

    private static void send(String prefix, String project, String request) throws Exception {
        try (KafkaProducer<String, String> p = KafkaTopics.producer()) {
            p.send(new ProducerRecord<>(prefix + "training", project, request)).get();
        }
    }

    @Test
    void aSigtermMidJobExitsZeroAndTheJobGoesBackToQueuedForTheNextWorker() throws Exception {
        String prefix = "trterm" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Map<String, String> env = TrainingJobsIT.env(db, prefix);

        JavaProcess first = startReady(env);
        CorpusLoader.createCollection(db, "terms");
        CorpusLoader.load(
                db, "terms", PackageCorpus.read(List.of("games", "science"), 20).packages(), "s");
        String request = "{\"request_id\":\"term-1\",\"project\":\"term\",\"task\":\"classification\","
                + "\"backend\":\"builtin\",\"data\":{\"collection\":\"terms\",\"label_path\":\"s\"},"
                + "\"hyperparameters\":{\"epochs\":300,\"epoch_pause_ms\":25}}";
        send(prefix, "term", request);
        await().atMost(Duration.ofMinutes(1))
                .until(() -> alive(first)
                        && "running".equals(value("select status from training_jobs where request_id = 'term-1'")));
        Thread.sleep(1000);

        first.terminate();
        assertThat(first.waitFor(40)).as(first.stderr()).isZero();
        // Stopped at the next epoch and handed back: queued, the attempt not counted, no model.
        assertThat(value("select status from training_jobs where request_id = 'term-1'"))
                .isEqualTo("queued");
        assertThat(value("select attempts from training_jobs where request_id = 'term-1'"))
                .isEqualTo(0);
        assertThat(value("select count(*) from models where project = 'term'")).isEqualTo(0L);

        JavaProcess second = JavaProcess.start(List.of(), TrainingWorker.class.getName(), env);
        try {
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> alive(second)
                            && "succeeded"
                                    .equals(value("select status from training_jobs where request_id = 'term-1'")));
            assertThat(value("select attempts from training_jobs where request_id = 'term-1'"))
                    .isEqualTo(1);
            assertThat(value("select count(*) from models where project = 'term'"))
                    .isEqualTo(1L);
        } finally {
            second.terminate();
            assertThat(second.waitFor(40)).isZero();
        }
    }

    @Test
    void aJobOfAKilledWorkerIsRunAgainByTheNextOne() throws Exception {
        String prefix = "trcrash" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Map<String, String> env = TrainingJobsIT.env(db, prefix);
        env.put("RAGLINE_TRAINING_STALE_POLICY", "retry");

        JavaProcess first = startReady(env);
        CorpusLoader.createCollection(db, "packages");
        CorpusLoader.load(
                db,
                "packages",
                PackageCorpus.read(List.of("games", "science", "sound"), 30).packages(),
                "s");
        String request = "{\"request_id\":\"crash-1\",\"project\":\"crash\",\"task\":\"classification\","
                + "\"backend\":\"builtin\",\"data\":{\"collection\":\"packages\",\"label_path\":\"s\"},"
                + "\"hyperparameters\":{\"epochs\":400,\"epoch_pause_ms\":25}}";
        send(prefix, "crash", request);
        await().atMost(Duration.ofMinutes(1))
                .until(() -> alive(first)
                        && "running".equals(value("select status from training_jobs where request_id = 'crash-1'")));
        Thread.sleep(2000); // mid-job: a few heartbeats written
        first.kill();
        first.waitFor(20);
        assertThat(value("select status from training_jobs where request_id = 'crash-1'"))
                .isEqualTo("running");

        JavaProcess second = JavaProcess.start(List.of(), TrainingWorker.class.getName(), env);
        try {
            // The dead member's partitions move after its session times out (45 s), then the job runs again.
            await().atMost(Duration.ofMinutes(3))
                    .until(() -> alive(second)
                            && "succeeded"
                                    .equals(value("select status from training_jobs where request_id = 'crash-1'")));
            assertThat(value("select attempts from training_jobs where request_id = 'crash-1'"))
                    .isEqualTo(2);
            assertThat(value("select count(*) from models where project = 'crash'"))
                    .isEqualTo(1L);
            assertThat(
                            value(
                                    "select count(*) from outbox where payload->>'type' = 'training.succeeded' and key = 'crash'"))
                    .isEqualTo(1L);
            assertThat(second.stdout() + second.stderr()).contains("running: classification");
        } finally {
            second.terminate();
            assertThat(second.waitFor(40)).isZero();
        }
    }
}
