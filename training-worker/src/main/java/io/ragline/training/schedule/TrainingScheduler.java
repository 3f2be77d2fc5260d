package io.ragline.training.schedule;

import io.ragline.training.TrainingSettings;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-process runner of {@code run_training_schedules()} (the SQL function that requests each
 * due {@code training_schedules} row's training through the outbox), every
 * {@code RAGLINE_TRAINING_SCHEDULE_INTERVAL}. In {@code auto} mode it stands aside while pg_cron
 * has a job calling that function, so schedules run once either way; several workers calling it
 * at once is safe too (the function skips rows another caller holds). It runs on a supervised
 * thread ({@code WorkerRuntime#supervise}): a run that fails is logged and retried at the next
 * interval, while anything else that ends the thread (an {@link Error}) stops the process.
 */
public final class TrainingScheduler implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(TrainingScheduler.class);

    /** The scheduler thread's name. */
    public static final String THREAD = "training-scheduler";

    /** The longest wait before the first run. */
    private static final Duration FIRST_RUN_AT_MOST = Duration.ofSeconds(5);

    private final DataSource dataSource;
    private final TrainingSettings.Scheduler mode;
    private final Duration every;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile Boolean cronOwnsIt;

    public TrainingScheduler(DataSource dataSource, TrainingSettings settings) {
        this.dataSource = dataSource;
        this.mode = settings.scheduler();
        this.every = settings.scheduleInterval();
    }

    /** Runs the schedules every interval (the first run after at most 5 s) until {@link #stop()}. */
    @Override
    public void run() {
        Duration wait = every.compareTo(FIRST_RUN_AT_MOST) < 0 ? every : FIRST_RUN_AT_MOST;
        try {
            while (!stopped.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                tick();
                wait = every;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Asks the scheduler to stop; a run under way finishes first. */
    public void stop() {
        stopped.countDown();
    }

    /** One run; a failure is logged and the next interval tries again. */
    void tick() {
        try (Connection c = dataSource.getConnection();
                Statement s = c.createStatement()) {
            if (mode == TrainingSettings.Scheduler.AUTO && cronHasJob(s)) {
                return;
            }
            try (ResultSet rs = s.executeQuery("select run_training_schedules()")) {
                rs.next();
                int n = rs.getInt(1);
                if (n > 0) {
                    log.info("requested {} scheduled training run(s)", n);
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("running training schedules failed: {}", e.toString());
        }
    }

    /** Whether pg_cron is installed here and one of its jobs calls this schema's run_training_schedules(). */
    private boolean cronHasJob(Statement s) throws SQLException {
        boolean has;
        // Read as the schema's owner (migration V13): pg_cron shows a worker login none of the
        // owner's jobs, and grants it no USAGE on its schema.
        try (ResultSet rs = s.executeQuery("select pg_cron_runs_training_schedules()")) {
            rs.next();
            has = rs.getBoolean(1);
        }
        if (cronOwnsIt == null || cronOwnsIt != has) {
            log.info(
                    has
                            ? "pg_cron runs run_training_schedules(): the in-process scheduler stands aside"
                            : "no pg_cron job runs run_training_schedules(): the in-process scheduler runs it");
            cronOwnsIt = has;
        }
        return has;
    }
}
