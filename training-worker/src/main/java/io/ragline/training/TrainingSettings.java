package io.ragline.training;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;

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
    public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(10);
    public static final Duration MIN_HEARTBEAT = Duration.ofMillis(100);
    public static final String STALE_AFTER = "RAGLINE_TRAINING_STALE_AFTER";
    public static final Duration DEFAULT_STALE_AFTER = Duration.ofMinutes(1);
    public static final String STALE_POLICY = "RAGLINE_TRAINING_STALE_POLICY";
    public static final StalePolicy DEFAULT_STALE_POLICY = StalePolicy.RETRY;
    public static final String MAX_ATTEMPTS = "RAGLINE_TRAINING_MAX_ATTEMPTS";
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    public static final String CONCURRENCY = "RAGLINE_TRAINING_CONCURRENCY";
    public static final int DEFAULT_CONCURRENCY = 1;
    public static final String STATEMENT_TIMEOUT = "RAGLINE_TRAINING_STATEMENT_TIMEOUT";
    public static final Duration DEFAULT_STATEMENT_TIMEOUT = Duration.ofHours(2);
    public static final Duration MIN_STATEMENT_TIMEOUT = Duration.ofSeconds(1);
    public static final String PGML_SCHEMA = "RAGLINE_PGML_SCHEMA";
    public static final String DEFAULT_PGML_SCHEMA = "pgml";
    public static final String PREDICT = "RAGLINE_TRAINING_PREDICT";
    public static final boolean DEFAULT_PREDICT = true;
    public static final String SCHEDULER = "RAGLINE_TRAINING_SCHEDULER";
    public static final Scheduler DEFAULT_SCHEDULER = Scheduler.AUTO;
    public static final String SCHEDULE_INTERVAL = "RAGLINE_TRAINING_SCHEDULE_INTERVAL";
    public static final Duration DEFAULT_SCHEDULE_INTERVAL = Duration.ofMinutes(1);
    public static final Duration MIN_SCHEDULE_INTERVAL = Duration.ofSeconds(1);

    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

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

    /** Every rule of every field; each problem names its variable. */
    public TrainingSettings {
        Problems p = new Problems();
        p.atLeast(HEARTBEAT, heartbeat, MIN_HEARTBEAT);
        p.positive(STALE_AFTER, staleAfter);
        if (heartbeat != null && staleAfter != null) {
            p.check(
                    staleAfter.compareTo(heartbeat.multipliedBy(3)) >= 0,
                    Problems.quoted(STALE_AFTER, Problems.text(staleAfter)) + " must be at least three "
                            + Problems.quoted(HEARTBEAT, Problems.text(heartbeat))
                            + ", or a slow heartbeat looks like a dead worker");
        }
        p.present(STALE_POLICY, stalePolicy);
        p.between(MAX_ATTEMPTS, maxAttempts, 1, 100);
        p.between(CONCURRENCY, concurrency, 1, 64);
        p.atLeast(STATEMENT_TIMEOUT, statementTimeout, MIN_STATEMENT_TIMEOUT);
        p.positive(STATEMENT_TIMEOUT, statementTimeout);
        p.matches(PGML_SCHEMA, pgmlSchema, IDENTIFIER, "must be a lower-case SQL identifier");
        p.present(SCHEDULER, scheduler);
        p.atLeast(SCHEDULE_INTERVAL, scheduleInterval, MIN_SCHEDULE_INTERVAL);
        p.throwIfAny();
    }

    /** Reads every variable; problems are recorded in {@code env} (the defaults stand in), not thrown. */
    public static TrainingSettings from(Env env) {
        Duration heartbeat = env.duration(HEARTBEAT, DEFAULT_HEARTBEAT);
        Duration stale = env.duration(STALE_AFTER, DEFAULT_STALE_AFTER);
        StalePolicy policy = env.choice(STALE_POLICY, DEFAULT_STALE_POLICY, StalePolicy.class);
        int maxAttempts = env.integer(MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS);
        int concurrency = env.integer(CONCURRENCY, DEFAULT_CONCURRENCY);
        Duration timeout = env.duration(STATEMENT_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT);
        String schema = env.string(PGML_SCHEMA, DEFAULT_PGML_SCHEMA).toLowerCase(Locale.ROOT);
        boolean predict = env.bool(PREDICT, DEFAULT_PREDICT);
        Scheduler scheduler = env.choice(SCHEDULER, DEFAULT_SCHEDULER, Scheduler.class);
        Duration interval = env.duration(SCHEDULE_INTERVAL, DEFAULT_SCHEDULE_INTERVAL);
        return env.build(
                () -> new TrainingSettings(
                        heartbeat,
                        stale,
                        policy,
                        maxAttempts,
                        concurrency,
                        timeout,
                        schema,
                        predict,
                        scheduler,
                        interval),
                TrainingSettings::defaults);
    }

    /** Every field at its default. */
    public static TrainingSettings defaults() {
        return new TrainingSettings(
                DEFAULT_HEARTBEAT,
                DEFAULT_STALE_AFTER,
                DEFAULT_STALE_POLICY,
                DEFAULT_MAX_ATTEMPTS,
                DEFAULT_CONCURRENCY,
                DEFAULT_STATEMENT_TIMEOUT,
                DEFAULT_PGML_SCHEMA,
                DEFAULT_PREDICT,
                DEFAULT_SCHEDULER,
                DEFAULT_SCHEDULE_INTERVAL);
    }
}
