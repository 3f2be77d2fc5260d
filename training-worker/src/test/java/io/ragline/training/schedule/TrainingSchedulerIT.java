package io.ragline.training.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import io.ragline.core.lifecycle.Supervisor;
import io.ragline.testkit.PostgresSchema;
import io.ragline.training.TrainingSettings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The in-process scheduler against a real database: it runs {@code run_training_schedules()}
 * every interval, and in {@code auto} mode stands aside while a pg_cron job runs this schema's
 * function (that case needs pg_cron in the test database, and is skipped, saying why, without).
 */
class TrainingSchedulerIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static HikariDataSource pool;

    @BeforeAll
    static void migrate() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        pool = Database.pool(url, db.schema(), 2, "scheduler-it", null);
    }

    @AfterAll
    static void close() {
        pool.close();
    }

    @BeforeEach
    void oneDueSchedule() throws Exception {
        sql("delete from outbox");
        sql("delete from training_schedules");
        sql("insert into training_schedules (name, request, every) values ('nightly', '{\"project\":"
                + "\"n\",\"task\":\"classification\",\"backend\":\"builtin\",\"data\":{\"collection\":\"default\","
                + "\"label_path\":\"topic\"}}', interval '1 day')");
    }

    private static void sql(String statement) throws Exception {
        try (var c = db.connect();
                var s = c.createStatement()) {
            s.execute(statement);
        }
    }

    /**
     * The scheduler on a supervised thread, as the worker runs it; closing stops it, which must
     * end its thread, with no death reported.
     */
    private static AutoCloseable running(TrainingSettings settings) {
        TrainingScheduler scheduler = new TrainingScheduler(pool, settings);
        Supervisor supervisor = new Supervisor(cause -> {});
        Supervisor.Supervised thread = supervisor.start(TrainingScheduler.THREAD, scheduler, scheduler::stop);
        return () -> {
            assertThat(thread.stop(Duration.ofSeconds(10))).isTrue();
            assertThat(supervisor.problem()).isEmpty();
        };
    }

    private static TrainingSettings settings(String mode) {
        Env env = new Env(Map.of(TrainingSettings.SCHEDULER, mode, TrainingSettings.SCHEDULE_INTERVAL, "1s"));
        TrainingSettings settings = TrainingSettings.from(env);
        env.validate();
        return settings;
    }

    @Test
    void itRunsDueSchedulesEveryInterval() throws Exception {
        try (AutoCloseable scheduler = running(settings("in_process"))) {
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> String.valueOf(db.queryValue("select last_result from training_schedules"))
                            .startsWith("requested scheduled:n:"));
        }
        assertThat(db.queryValue("select count(*) from outbox where topic = 'training' and key = 'n'"))
                .isEqualTo(1L);
    }

    @Test
    void inAutoModeItStandsAsideWhileAPgCronJobRunsThisSchemasFunction() throws Exception {
        db.assumePgCron();
        // A job that will not fire during the test: only its presence matters here.
        long job = ((Number) db.queryValue("select cron.schedule('ragline-" + db.schema() + "', '0 0 1 1 *',"
                        + " 'select " + db.schema() + ".run_training_schedules()')"))
                .longValue();
        try (AutoCloseable scheduler = running(settings("auto"))) {
            Thread.sleep(3_000); // three intervals
            assertThat(db.queryValue("select last_result from training_schedules"))
                    .isNull();
        } finally {
            db.queryValue("select cron.unschedule(" + job + ")");
        }
        try (AutoCloseable scheduler = running(settings("auto"))) {
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> db.queryValue("select last_result from training_schedules") != null);
        }
    }
}
