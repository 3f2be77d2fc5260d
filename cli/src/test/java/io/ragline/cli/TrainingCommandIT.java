package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import io.ragline.training.TrainingWorker;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Training from SQL to Kafka and back, with the operator's commands as real processes:
 * {@code request_training()} writes the request to the outbox, the event-dispatcher publishes it
 * to {@code training}, the training-worker runs it and its {@code training.succeeded} reaches
 * {@code pipeline-events}; {@code ragline training list|show|cancel} show and stop jobs.
 */
class TrainingCommandIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static String request(String project, String extra) {
        return "{\"project\":\"" + project + "\",\"task\":\"classification\",\"backend\":\"builtin\","
                + "\"data\":{\"collection\":\"blobs\",\"label_path\":\"kind\"}" + extra + "}";
    }

    private static Object value(String sql) throws Exception {
        return db.queryValue(sql);
    }

    @Test
    void aRequestFromSqlRunsAndOperatorsListShowAndCancelJobs() throws Exception {
        String prefix = "trcli" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        Map<String, String> workers = AllWorkers.env(env);
        workers.put("RAGLINE_TRAINING_HEARTBEAT", "500ms");
        workers.put("RAGLINE_TRAINING_STALE_AFTER", "5s");
        workers.put("RAGLINE_TRAINING_SCHEDULER", "off");
        Env e = new Env(workers);
        var dispatcher = EventDispatcher.wiring(e);
        var training = TrainingWorker.wiring(e);
        e.validate();
        try (WorkerRuntime runtime = WorkerRuntime.start("training-cli-it", 0, e)) {
            dispatcher.accept(runtime);
            training.accept(runtime);
            try (Connection c = db.connect();
                    Statement s = c.createStatement()) {
                TwoKindsCorpus.insert(s);
            }
            String requestId = (String)
                    value("select request_training('" + request("blobs", ",\"request_id\":\"b-1\"") + "'::jsonb)");
            assertThat(requestId).isEqualTo("b-1");
            await().atMost(Duration.ofMinutes(1))
                    .until(() ->
                            "succeeded".equals(value("select status from training_jobs where request_id = 'b-1'")));
            long id = (long) value("select id from training_jobs where request_id = 'b-1'");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> KafkaTopics.readAll(prefix + "pipeline-events", Duration.ofSeconds(20)).stream()
                            .anyMatch(r -> r.key().equals("blobs") && r.value().contains("\"training.succeeded\"")));

            JavaProcess list = CliProcess.start(env, "training", "list");
            assertThat(list.waitFor(60)).as(list.stderr()).isZero();
            assertThat(list.stdout())
                    .contains("PROJECT")
                    .contains("blobs")
                    .contains("succeeded")
                    .contains("b-1");

            JavaProcess show = CliProcess.start(env, "training", "show", Long.toString(id));
            assertThat(show.waitFor(60)).as(show.stderr()).isZero();
            assertThat(show.stdout())
                    .contains("status            succeeded")
                    .contains("baseline_accuracy")
                    .contains("macro_f1")
                    .containsPattern(
                            "model \\d+: deployed, artifact \\d+ bytes \\(deployed: the project had no deployed model\\)");

            JavaProcess again = CliProcess.start(env, "training", "cancel", Long.toString(id));
            assertThat(again.waitFor(60)).isZero();
            assertThat(again.stdout()).contains("already succeeded");

            value("select request_training('"
                    + request(
                            "slow",
                            ",\"request_id\":\"s-1\",\"hyperparameters\":"
                                    + "{\"epochs\":100000,\"epoch_pause_ms\":20}")
                    + "'::jsonb)");
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> "running".equals(value("select status from training_jobs where request_id = 's-1'")));
            long slow = (long) value("select id from training_jobs where request_id = 's-1'");
            JavaProcess cancel = CliProcess.start(env, "training", "cancel", Long.toString(slow));
            assertThat(cancel.waitFor(60)).as(cancel.stderr()).isZero();
            assertThat(cancel.stdout()).contains("asked to stop");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> "cancelled".equals(value("select status from training_jobs where id = " + slow)));

            JavaProcess missing = CliProcess.start(env, "training", "show", "999999");
            assertThat(missing.waitFor(60)).isEqualTo(1);
            assertThat(missing.stderr()).contains("no job 999999");
        }
    }
}
