package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.testkit.PostgresSchema;
import io.ragline.training.TrainingWorker;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A pg_cron schedule enqueues a training job that runs: pg_cron calls {@code
 * run_training_schedules()}, which writes the request to the outbox; the event-dispatcher
 * publishes it and the training-worker (its own scheduler off) runs it. Needs a server that loads
 * pg_cron in this database, which {@code ragline dev up} provides where the distribution packages
 * it (Debian: postgresql-N-cron); elsewhere (the Docker images) the test is skipped, saying why.
 * pg_cron 1.4 (Debian bookworm) schedules by the minute, so this test waits for the next one.
 */
class TrainingCronIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @Test
    void aPgCronScheduleEnqueuesATrainingJobThatRuns() throws Exception {
        db.assumePgCron();

        String prefix = "trcron" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Map<String, String> workers = AllWorkers.env(db.env());
        workers.put("RAGLINE_TOPIC_PREFIX", prefix);
        workers.put("RAGLINE_TRAINING_SCHEDULER", "off"); // only pg_cron may request the training
        Env e = new Env(workers);
        var dispatcher = EventDispatcher.wiring(e);
        var training = TrainingWorker.wiring(e);
        e.validate();
        long cronJob = -1;
        try (WorkerRuntime runtime = WorkerRuntime.start("training-cron-it", 0, e)) {
            dispatcher.accept(runtime);
            training.accept(runtime);
            try (Connection c = db.connect();
                    Statement s = c.createStatement()) {
                TwoKindsCorpus.insert(s);
                s.execute("insert into training_schedules (name, request, every) values ('weekly-blobs',"
                        + " '{\"project\":\"blobs\",\"task\":\"classification\",\"backend\":\"builtin\","
                        + "\"data\":{\"collection\":\"blobs\",\"label_path\":\"kind\"}}', interval '7 days')");
                try (var rs = s.executeQuery("select cron.schedule('ragline-" + db.schema() + "', '* * * * *',"
                        + " 'select " + db.schema() + ".run_training_schedules()')")) {
                    rs.next();
                    cronJob = rs.getLong(1);
                }
            }

            try {
                await().atMost(Duration.ofMinutes(3))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(() -> "succeeded"
                                .equals(db.queryValue("select status from training_jobs where request_id like"
                                        + " 'scheduled:blobs:%'")));
            } catch (ConditionTimeoutException timeout) {
                throw new AssertionError(
                        "no scheduled training succeeded in 3 minutes; " + db.pgCronState(cronJob), timeout);
            }
            assertThat(db.queryValue("select count(*) from cron.job_run_details where jobid = " + cronJob
                            + " and status = 'succeeded'"))
                    .isNotEqualTo(0L);
            assertThat((String) db.queryValue("select last_result from training_schedules"))
                    .startsWith("requested scheduled:blobs:");
            assertThat(db.queryValue("select count(*) from training_jobs")).isEqualTo(1L);
        } finally {
            if (cronJob >= 0) {
                db.queryValue("select cron.unschedule(" + cronJob + ")");
            }
        }
    }
}
