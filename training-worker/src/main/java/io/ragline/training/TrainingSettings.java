package io.ragline.training;

import io.ragline.core.config.Env;
import java.time.Duration;
import java.util.Locale;

/**
 * The training-worker's own settings ({@code RAGLINE_TRAINING_*}, {@code RAGLINE_PGML_SCHEMA}).
 *
 * @param heartbeat how often a running job's row gets {@code heartbeat_at = now()} (and its
 *     worker reads {@code cancel_requested})
 * @param staleAfter a running job whose heartbeat is older than this is a dead worker's
 * @param stalePolicy what happens to a dead worker's job when its request comes round again
 * @param maxAttempts attempts (runs started) after which a stale job is failed even under
 *     {@code retry}
 * @param concurrency jobs run at once by this process (others wait {@code queued})
 * @param statementTimeout bound on one {@code pgml.train} / {@code pgml.tune} call
 * @param pgmlSchema where PostgresML's functions and tables are ({@code pgml})
 * @param predict whether deployed builtin models label newly embedded documents
 * @param scheduler who runs {@code run_training_schedules()}
 * @param scheduleInterval how often the in-process scheduler runs it
 */
public record TrainingSettings(
        Duration heartbeat,
        Duration staleAfter,
        StalePolicy stalePolicy,
        int maxAttempts,
        int concurrency,
        Duration statementTimeout,
        String pgmlSchema,
        boolean predict,
        Scheduler scheduler,
        Duration scheduleInterval) {

    public static final String HEARTBEAT = "RAGLINE_TRAINING_HEARTBEAT";
    public static final String STALE_AFTER = "RAGLINE_TRAINING_STALE_AFTER";
    public static final String STALE_POLICY = "RAGLINE_TRAINING_STALE_POLICY";
    public static final String MAX_ATTEMPTS = "RAGLINE_TRAINING_MAX_ATTEMPTS";
    public static final String CONCURRENCY = "RAGLINE_TRAINING_CONCURRENCY";
    public static final String STATEMENT_TIMEOUT = "RAGLINE_TRAINING_STATEMENT_TIMEOUT";
    public static final String PGML_SCHEMA = "RAGLINE_PGML_SCHEMA";
    public static final String PREDICT = "RAGLINE_TRAINING_PREDICT";
    public static final String SCHEDULER = "RAGLINE_TRAINING_SCHEDULER";
    public static final String SCHEDULE_INTERVAL = "RAGLINE_TRAINING_SCHEDULE_INTERVAL";

    public enum StalePolicy {
        /** Run it again (a new attempt), until {@code maxAttempts}; then fail it. */
        RETRY,
        /** Mark it failed at once, naming the dead worker. */
        FAIL
    }

    public enum Scheduler {
        /** In-process unless pg_cron has a job that calls {@code run_training_schedules()}. */
        AUTO,
        IN_PROCESS,
        /** Nothing here runs schedules (pg_cron does, or nobody). */
        OFF
    }

    public static TrainingSettings from(Env env) {
        Duration heartbeat = env.duration(HEARTBEAT, Duration.ofSeconds(10));
        Duration stale = env.duration(STALE_AFTER, Duration.ofMinutes(1));
        if (heartbeat.compareTo(Duration.ofMillis(100)) < 0) {
            env.problem(HEARTBEAT + " must be at least 100ms");
        }
        if (stale.compareTo(heartbeat.multipliedBy(3)) < 0) {
            env.problem(STALE_AFTER + " (" + stale + ") must be at least three " + HEARTBEAT + " (" + heartbeat
                    + "), or a slow heartbeat looks like a dead worker");
        }
        String schema = env.string(PGML_SCHEMA, "pgml").toLowerCase(Locale.ROOT);
        if (!schema.matches("[a-z_][a-z0-9_]{0,62}")) {
            env.problem(PGML_SCHEMA + "='" + schema + "' must be a lower-case SQL identifier");
        }
        Duration timeout = env.duration(STATEMENT_TIMEOUT, Duration.ofHours(2));
        if (timeout.toMillis() < 1000 || timeout.toMillis() > Integer.MAX_VALUE) {
            env.problem(STATEMENT_TIMEOUT + " must be between 1s and 24 days");
        }
        Duration interval = env.duration(SCHEDULE_INTERVAL, Duration.ofMinutes(1));
        if (interval.toMillis() < 1000) {
            env.problem(SCHEDULE_INTERVAL + " must be at least 1s");
        }
        return new TrainingSettings(
                heartbeat,
                stale,
                env.choice(STALE_POLICY, StalePolicy.RETRY, StalePolicy.class),
                env.integer(MAX_ATTEMPTS, 3, 1, 100),
                env.integer(CONCURRENCY, 1, 1, 64),
                timeout,
                schema,
                env.bool(PREDICT, true),
                env.choice(SCHEDULER, Scheduler.AUTO, Scheduler.class),
                interval);
    }
}
