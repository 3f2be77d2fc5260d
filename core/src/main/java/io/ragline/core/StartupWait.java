package io.ragline.core;

import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Problems;
import io.ragline.core.db.ConnectFailure;
import io.ragline.core.resilience.Backoff;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up's one wait for a Postgres or Kafka that a retry can bring back (refused, unanswered,
 * starting up, failing over): until {@code RAGLINE_STARTUP_WAIT} after start-up began, with short
 * doubling pauses ({@link #PAUSES}) between attempts, each logged at INFO with what is awaited, why
 * (the masked URL, never a secret) and the time left. {@link StartupCheck} uses it for its checks,
 * {@link WorkerRuntime} for the steps that follow (migrating, checking a worker login's
 * privileges), so an outage that begins just after the check is waited out too, within the same
 * deadline. Whether a failure is one to wait for is decided by its home: {@link
 * ConnectFailure#retryable} for Postgres, {@code KafkaConnectivity.Failure#retryable} for Kafka.
 *
 * <p>One thread uses it at a time (start-up's).
 */
public final class StartupWait {
    private static final Logger log = LoggerFactory.getLogger(StartupWait.class);

    /** The pauses between attempts: from 250 ms, doubling to 4 s, with the backoff's jitter. */
    static final Backoff PAUSES = Backoff.of(Duration.ofMillis(250), Duration.ofSeconds(4));

    /** How a pause is taken: {@link Thread#sleep} but in tests. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration pause) throws InterruptedException;
    }

    /** A start-up step that needs Postgres. */
    @FunctionalInterface
    public interface SqlStep<T> {
        T run() throws SQLException;
    }

    private final String processName;
    private final Duration wait;
    private final Instant deadline;
    private final Clock clock;
    private final Sleeper sleeper;
    /** Pauses taken in the outage being waited out; 0 when the last attempt succeeded. */
    private int pauses;

    private Instant firstFailure;

    StartupWait(String processName, Instant began, Duration wait, Clock clock, Sleeper sleeper) {
        this.processName = processName;
        this.wait = wait;
        this.deadline = began.plus(wait);
        this.clock = clock;
        this.sleeper = sleeper;
    }

    /** Waits until {@code wait} after {@code began} (zero: one attempt, no wait). */
    public static StartupWait since(Instant began, Duration wait, String processName) {
        return new StartupWait(processName, began, wait, Clock.systemUTC(), p -> Thread.sleep(p.toMillis()));
    }

    /**
     * After a failed attempt: logs each of {@code waiting} (what is awaited, and why its last
     * attempt failed) with the time left, and pauses before the next attempt. False, with no pause,
     * once the time is up (or when interrupted, the flag restored): report the failure then.
     */
    public boolean pause(Map<String, String> waiting) {
        Instant now = clock.instant();
        Duration left = Duration.between(now, deadline);
        if (left.isNegative() || left.isZero() || Thread.currentThread().isInterrupted()) {
            if (pauses > 0) {
                log.warn(
                        "{}: gave up waiting after {} s ({}={})",
                        processName,
                        seconds(elapsed()),
                        CoreSettings.STARTUP_WAIT,
                        Problems.text(wait));
            }
            return false;
        }
        if (pauses == 0) {
            firstFailure = now;
        }
        waiting.forEach((what, why) ->
                log.info("{}: waiting for {} ({}), {} s left", processName, what, why, (left.toMillis() + 999) / 1000));
        Duration pause = PAUSES.wait(++pauses);
        try {
            sleeper.sleep(pause.compareTo(left) < 0 ? pause : left);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }

    /** After an attempt at {@code what} succeeded: says so when it was waited for. */
    public void answered(String what) {
        if (pauses > 0) {
            log.info("{}: {} answered after {} s", processName, what, seconds(elapsed()));
        }
    }

    /**
     * Appended to a failure reported after a wait, e.g. {@code " (retried for 60 s,
     * RAGLINE_STARTUP_WAIT=1m)"}; empty when the failure was not waited for.
     */
    public String retried() {
        return pauses == 0
                ? ""
                : " (retried for " + seconds(elapsed()) + " s, " + CoreSettings.STARTUP_WAIT + "=" + Problems.text(wait)
                        + ")";
    }

    /**
     * Runs {@code body}, a start-up step on Postgres, again after each failure {@link
     * ConnectFailure#retryable} calls retryable (found in the cause chain of what it threw, Flyway's
     * exceptions included) until the deadline; any other failure, or the last, is thrown as it was.
     */
    public <T> T postgres(DatabaseUrl url, String step, SqlStep<T> body) throws SQLException {
        String what = "Postgres at " + url + " (" + step + ")";
        while (true) {
            try {
                T result = body.run();
                answered(what);
                pauses = 0; // a later step's outage starts afresh
                return result;
            } catch (SQLException | RuntimeException e) {
                SQLException sql = sqlCause(e);
                if (sql == null
                        || !ConnectFailure.retryable(url, sql)
                        || !pause(Map.of(what, ConnectFailure.explain(url, sql)))) {
                    throw e;
                }
            }
        }
    }

    private static SQLException sqlCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                return sql;
            }
        }
        return null;
    }

    private Duration elapsed() {
        return firstFailure == null ? Duration.ZERO : Duration.between(firstFailure, clock.instant());
    }

    private static long seconds(Duration d) {
        return Math.round(d.toMillis() / 1000.0);
    }
}
