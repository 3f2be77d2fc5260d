package io.ragline.core.retention;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * How old a row of each {@link RetentionTarget} may grow ({@code RAGLINE_RETENTION_<TARGET>}: a
 * duration such as {@code 30d}, or {@code off}), how many rows one statement removes, how often
 * and by whom retention runs.
 *
 * @param windows every target's window; empty: kept for ever
 * @param batch rows removed per statement (and per transaction)
 * @param interval how often the in-process scheduler runs
 * @param scheduler who runs it
 */
public record RetentionSettings(
        Map<RetentionTarget, Optional<Duration>> windows, int batch, Duration interval, Scheduler scheduler) {

    public static final String BATCH = "RAGLINE_RETENTION_BATCH";
    public static final int DEFAULT_BATCH = 1000;
    public static final String INTERVAL = "RAGLINE_RETENTION_INTERVAL";
    public static final Duration DEFAULT_INTERVAL = Duration.ofHours(1);
    public static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
    public static final String SCHEDULER = "RAGLINE_RETENTION_SCHEDULER";
    public static final Scheduler DEFAULT_SCHEDULER = Scheduler.AUTO;
    /**
     * The shortest window: rows younger than an hour may still be in the pipeline's hands (a
     * tombstone guarding against a stale upsert, an event being routed, a batch redelivered).
     */
    public static final Duration MIN_WINDOW = Duration.ofHours(1);

    public enum Scheduler {
        /** In-process unless pg_cron has a job that calls {@code run_retention()}. */
        AUTO,
        IN_PROCESS,
        /** Nothing here runs retention (pg_cron does, or nobody). */
        OFF
    }

    /** Every rule of every field; each problem names its variable. */
    public RetentionSettings {
        Problems p = new Problems();
        if (p.present("RAGLINE_RETENTION_*", windows, "")) {
            for (RetentionTarget t : RetentionTarget.values()) {
                Optional<Duration> w = windows.get(t);
                p.check(w != null, t.variable() + " is not set");
                if (w != null && w.isPresent()) {
                    p.check(
                            w.get().compareTo(MIN_WINDOW) >= 0,
                            Problems.quoted(t.variable(), Problems.text(w.get())) + " must be at least "
                                    + Problems.text(MIN_WINDOW) + ", or off");
                }
            }
            windows = Collections.unmodifiableMap(new EnumMap<>(windows));
        }
        p.between(BATCH, batch, 1, 100_000);
        p.atLeast(INTERVAL, interval, MIN_INTERVAL);
        p.present(SCHEDULER, scheduler);
        p.throwIfAny();
    }

    /** The defaults: every target at its {@link RetentionTarget#defaultWindow()}. */
    public static RetentionSettings defaults() {
        Map<RetentionTarget, Optional<Duration>> windows = new EnumMap<>(RetentionTarget.class);
        for (RetentionTarget t : RetentionTarget.values()) {
            windows.put(t, t.defaultWindow());
        }
        return new RetentionSettings(windows, DEFAULT_BATCH, DEFAULT_INTERVAL, DEFAULT_SCHEDULER);
    }

    /** Reads every variable; problems are recorded in {@code env} (the defaults stand in), not thrown. */
    public static RetentionSettings from(Env env) {
        Map<RetentionTarget, Optional<Duration>> windows = new EnumMap<>(RetentionTarget.class);
        for (RetentionTarget t : RetentionTarget.values()) {
            windows.put(t, env.durationOrOff(t.variable(), t.defaultWindow()));
        }
        int batch = env.integer(BATCH, DEFAULT_BATCH);
        Duration interval = env.duration(INTERVAL, DEFAULT_INTERVAL);
        Scheduler scheduler = env.choice(SCHEDULER, DEFAULT_SCHEDULER, Scheduler.class);
        return env.build(() -> new RetentionSettings(windows, batch, interval, scheduler), RetentionSettings::defaults);
    }

    /** The targets that have a window, with it. */
    public Map<RetentionTarget, Duration> enabled() {
        Map<RetentionTarget, Duration> on = new EnumMap<>(RetentionTarget.class);
        windows.forEach((t, w) -> w.ifPresent(d -> on.put(t, d)));
        return on;
    }

    /** For the start-up log: {@code claude_events=720h, ...}, off where off. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("RetentionSettings[");
        windows.forEach((t, w) -> s.append(t.sqlName())
                .append('=')
                .append(w.map(Problems::text).orElse("off"))
                .append(", "));
        return s.append("batch=")
                .append(batch)
                .append(", interval=")
                .append(Problems.text(interval))
                .append(", scheduler=")
                .append(scheduler.name().toLowerCase(java.util.Locale.ROOT))
                .append(']')
                .toString();
    }
}
