package io.ragline.core.retention;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.ragline.core.config.Problems;
import io.ragline.core.schedule.SqlJobScheduler;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass of retention: for each target with a window, {@code retention_delete(target, window,
 * batch)} (migration V21, the one home of what is removed, which pg_cron's {@code
 * run_retention()} calls too) again and again, each call its own transaction (autocommit), until a
 * batch comes back short. Every removed row counts in {@code ragline_retention_rows_removed_total}
 * tagged with its {@code target}. A pass ends early, between two batches, when {@code keepGoing}
 * turns false (the process stops, or the dispatcher lost its lease).
 */
public final class Retention {
    private static final Logger log = LoggerFactory.getLogger(Retention.class);

    /** The scheduler thread's name. */
    public static final String THREAD = "retention";

    /** The procedure a pg_cron job calls ({@code CALL <schema>.run_retention('{...}')}). */
    public static final String CRON_PROCEDURE = "run_retention";

    private final RetentionSettings settings;
    private final Map<RetentionTarget, Counter> removed = new EnumMap<>(RetentionTarget.class);
    private final Map<RetentionTarget, Counter> failures = new EnumMap<>(RetentionTarget.class);

    public Retention(RetentionSettings settings, MeterRegistry registry) {
        this.settings = settings;
        for (RetentionTarget t : RetentionTarget.values()) {
            removed.put(
                    t,
                    Counter.builder("ragline.retention.rows.removed")
                            .description("Rows removed by retention")
                            .tag("target", t.sqlName())
                            .register(registry));
            failures.put(
                    t,
                    Counter.builder("ragline.retention.failures")
                            .description("Retention passes in which removing this target failed")
                            .tag("target", t.sqlName())
                            .register(registry));
        }
    }

    /**
     * The in-process scheduler of this retention: every {@code RAGLINE_RETENTION_INTERVAL} while
     * {@code mayRun} (the replica that leads), standing aside in {@code auto} mode while a pg_cron
     * job calls {@code run_retention()}. Not to be built when the scheduler is {@code off}.
     */
    public SqlJobScheduler scheduler(DataSource dataSource, BooleanSupplier mayRun) {
        if (settings.scheduler() == RetentionSettings.Scheduler.OFF) {
            throw new IllegalStateException(RetentionSettings.SCHEDULER + " is off: no in-process scheduler");
        }
        return new SqlJobScheduler(
                dataSource,
                CRON_PROCEDURE,
                settings.interval(),
                settings.scheduler() == RetentionSettings.Scheduler.AUTO,
                mayRun,
                this::run);
    }

    /**
     * Removes what every enabled window allows, batch by batch on {@code c} (which must be in
     * autocommit: each batch commits before the next), and returns the rows removed per target.
     * A target whose delete fails is logged, counted in {@code ragline_retention_failures_total}
     * and left for the next pass while the targets after it still run; the pass then throws,
     * naming every target that failed. A lost connection ends the pass at once.
     */
    public Map<RetentionTarget, Long> run(Connection c, BooleanSupplier keepGoing) throws SQLException {
        Map<RetentionTarget, Long> counts = new EnumMap<>(RetentionTarget.class);
        Map<RetentionTarget, SQLException> failed = new EnumMap<>(RetentionTarget.class);
        try (PreparedStatement s = c.prepareStatement("select retention_delete(?, make_interval(secs => ?), ?)")) {
            for (Map.Entry<RetentionTarget, Duration> e : settings.enabled().entrySet()) {
                RetentionTarget target = e.getKey();
                long[] total = {0};
                try {
                    if (!removeAll(s, target, e.getValue(), keepGoing, total)) {
                        log.info("retention stopped early: {} row(s) of {} removed", total[0], target.sqlName());
                        counts.put(target, total[0]);
                        break;
                    }
                } catch (SQLException ex) {
                    if (c.isClosed() || isConnectionLost(ex)) {
                        throw ex;
                    }
                    failures.get(target).increment();
                    log.warn(
                            "retention of {} failed after {} row(s), the other targets go on: {}",
                            target.sqlName(),
                            total[0],
                            ex.toString());
                    failed.put(target, ex);
                }
                counts.put(target, total[0]);
                if (total[0] > 0) {
                    log.info(
                            "retention removed {} row(s) of {} older than {}",
                            total[0],
                            target.sqlName(),
                            Problems.text(e.getValue()));
                }
            }
        }
        if (!failed.isEmpty()) {
            throw failure(failed);
        }
        return counts;
    }

    /** Batches of one target until one comes back short; false if {@code keepGoing} said stop. */
    private boolean removeAll(
            PreparedStatement s, RetentionTarget target, Duration window, BooleanSupplier keepGoing, long[] total)
            throws SQLException {
        int n;
        do {
            if (!keepGoing.getAsBoolean()) {
                return false;
            }
            n = deleteBatch(s, target, window);
            total[0] += n;
            removed.get(target).increment(n);
        } while (n >= settings.batch());
        return true;
    }

    private static boolean isConnectionLost(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("08");
    }

    /** One exception naming every target that failed, the first failure its cause. */
    private static SQLException failure(Map<RetentionTarget, SQLException> failed) {
        String names = String.join(
                ", ", failed.keySet().stream().map(RetentionTarget::sqlName).toList());
        SQLException first = failed.values().iterator().next();
        SQLException e = new SQLException("retention failed for " + names + ": " + first.getMessage(), first);
        failed.values().stream().skip(1).forEach(e::addSuppressed);
        return e;
    }

    private int deleteBatch(PreparedStatement s, RetentionTarget target, Duration window) throws SQLException {
        s.setString(1, target.sqlName());
        s.setDouble(2, window.toSeconds());
        s.setInt(3, settings.batch());
        try (ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
