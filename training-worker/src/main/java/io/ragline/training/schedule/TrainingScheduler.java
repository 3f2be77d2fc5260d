package io.ragline.training.schedule;

import io.ragline.core.schedule.SqlJobScheduler;
import io.ragline.training.TrainingSettings;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-process runner of {@code run_training_schedules()} (the SQL function that requests each
 * due {@code training_schedules} row's training through the outbox), every
 * {@code RAGLINE_TRAINING_SCHEDULE_INTERVAL}, through core's {@link SqlJobScheduler}. In {@code
 * auto} mode it stands aside while pg_cron has a job calling that function, so schedules run once
 * either way; several workers calling it at once is safe too (the function skips rows another
 * caller holds).
 */
public final class TrainingScheduler implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(TrainingScheduler.class);

    /** The scheduler thread's name. */
    public static final String THREAD = "training-scheduler";

    /** The SQL function it runs. */
    static final String FUNCTION = "run_training_schedules";

    private final SqlJobScheduler scheduler;

    public TrainingScheduler(DataSource dataSource, TrainingSettings settings) {
        this.scheduler = new SqlJobScheduler(
                dataSource,
                FUNCTION,
                settings.scheduleInterval(),
                settings.scheduler() == TrainingSettings.Scheduler.AUTO,
                () -> true,
                TrainingScheduler::runSchedules);
    }

    /** Runs the schedules every interval (the first run after at most 5 s) until {@link #stop()}. */
    @Override
    public void run() {
        scheduler.run();
    }

    /** Asks the scheduler to stop; a run under way finishes first. */
    public void stop() {
        scheduler.stop();
    }

    private static void runSchedules(Connection c, BooleanSupplier keepGoing) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select " + FUNCTION + "()")) {
            rs.next();
            int n = rs.getInt(1);
            if (n > 0) {
                log.info("requested {} scheduled training run(s)", n);
            }
        }
    }
}
