package io.ragline.core.schedule;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-process runner of a SQL job that pg_cron may run instead: the training-worker's {@code
 * run_training_schedules()}, the event-dispatcher's retention ({@code retention_delete()}). Every
 * interval (the first run after at most 5 s) it runs the job, unless, when it {@linkplain
 * #standAsideForCron stands aside for pg_cron}, an active pg_cron job of this schema calls the
 * job's SQL function (asked through the owner's {@code pg_cron_runs(function)}, migration V21), or
 * {@code mayRun} says no (a dispatcher that does not lead). It runs on a supervised thread
 * ({@code WorkerRuntime#supervise}): a run that fails is logged and retried at the next interval,
 * while anything else that ends the thread (an {@link Error}) stops the process.
 */
public final class SqlJobScheduler implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(SqlJobScheduler.class);

    /** The longest wait before the first run. */
    static final Duration FIRST_RUN_AT_MOST = Duration.ofSeconds(5);

    /**
     * One run of the job, on a connection of its own (autocommit, as the pool gives it). A long
     * job asks {@code keepGoing} between its steps: false once the scheduler stops or {@code
     * mayRun} turns false.
     */
    @FunctionalInterface
    public interface Job {
        void run(Connection c, BooleanSupplier keepGoing) throws SQLException;
    }

    private final DataSource dataSource;
    private final String function;
    private final Duration every;
    private final boolean standAsideForCron;
    private final BooleanSupplier mayRun;
    private final Job job;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile Boolean cronOwnsIt;

    /**
     * @param function the SQL function a pg_cron job would call (a lower-case identifier)
     * @param standAsideForCron skip runs while pg_cron runs {@code function} ({@code auto} mode)
     * @param mayRun asked before each run; false skips it (a standby replica)
     */
    public SqlJobScheduler(
            DataSource dataSource,
            String function,
            Duration every,
            boolean standAsideForCron,
            BooleanSupplier mayRun,
            Job job) {
        this.dataSource = dataSource;
        this.function = function;
        this.every = every;
        this.standAsideForCron = standAsideForCron;
        this.mayRun = mayRun;
        this.job = job;
    }

    /** Runs the job every interval until {@link #stop()}. */
    @Override
    public void run() {
        Duration wait = every.compareTo(FIRST_RUN_AT_MOST) < 0 ? every : FIRST_RUN_AT_MOST;
        try {
            while (!stopped.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                // Not allowed to run yet (a dispatcher not leading yet): ask again soon, not a whole
                // interval later, so a process that restarts more often than the interval still runs it.
                wait = tick() ? every : (every.compareTo(FIRST_RUN_AT_MOST) < 0 ? every : FIRST_RUN_AT_MOST);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Asks the scheduler to stop; a run under way ends at its next step. */
    public void stop() {
        stopped.countDown();
    }

    /**
     * One run; a failure is logged and the next interval tries again. False when it was not allowed
     * to run ({@code mayRun} said no), so the caller asks again soon.
     */
    public boolean tick() {
        if (!mayRun.getAsBoolean()) {
            return false;
        }
        try (Connection c = dataSource.getConnection()) {
            if (standAsideForCron && cronHasJob(c)) {
                return true;
            }
            job.run(c, () -> stopped.getCount() > 0 && mayRun.getAsBoolean());
        } catch (SQLException | RuntimeException e) {
            log.warn("running {}() failed: {}", function, e.toString());
        }
        return true;
    }

    /** Whether pg_cron is installed here and one of its jobs calls this schema's function. */
    private boolean cronHasJob(Connection c) throws SQLException {
        boolean has;
        // Read as the schema's owner (migration V21): pg_cron shows a worker login none of the
        // owner's jobs, and grants it no USAGE on its schema.
        try (PreparedStatement s = c.prepareStatement("select pg_cron_runs(?)")) {
            s.setString(1, function);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                has = rs.getBoolean(1);
            }
        }
        if (cronOwnsIt == null || cronOwnsIt != has) {
            log.info(
                    has
                            ? "pg_cron runs {}(): the in-process scheduler stands aside"
                            : "no pg_cron job runs {}(): the in-process scheduler runs it",
                    function);
            cronOwnsIt = has;
        }
        return has;
    }
}
