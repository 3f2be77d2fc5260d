package io.ragline.core.resilience;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * The one retry wait of Ragline: exponential from {@code initial} (doubling with each attempt),
 * with ±50 % jitter, never above {@code max}. The wait after the n-th consecutive failure is
 * {@code min(initial * 2^(n-1), max)} times a uniform factor in [0.5, 1.5), capped at {@code max}
 * again: at the cap the waits spread over [max/2, max], so workers that failed together do not
 * retry together. Computed in floating point nanoseconds, so no attempt number overflows. The same rule as
 * resilience4j's {@code IntervalFunction.ofExponentialRandomBackoff(initial, 2.0, 0.5, max)}.
 *
 * <p>Every wait before a retry comes from here: the poll loops' pauses, the outbox relay's retries
 * and its held keys, the HTTP embedding provider's retries, the training jobs' claims and outcome
 * writes. Thread-safe.
 */
public final class Backoff {
    /** {@code RAGLINE_RETRY_BACKOFF_INITIAL}'s default, and the first wait where nothing else is said. */
    public static final Duration DEFAULT_INITIAL = Duration.ofMillis(500);

    /** {@code RAGLINE_RETRY_BACKOFF_MAX}'s default. */
    public static final Duration DEFAULT_MAX = Duration.ofSeconds(30);

    /** Each attempt waits this many times the previous one (before jitter). */
    public static final double MULTIPLIER = 2.0;

    /** The jitter: a wait is its exponential value times a factor in [1 - JITTER, 1 + JITTER). */
    public static final double JITTER = 0.5;

    private final Duration initial;
    private final Duration max;
    private final DoubleSupplier random;

    private Backoff(Duration initial, Duration max, DoubleSupplier random) {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(max, "max");
        if (initial.isNegative()) {
            throw new IllegalArgumentException("a backoff's initial wait must not be negative: " + initial);
        }
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException(
                    "a backoff's maximum (" + max + ") must not be below its initial wait (" + initial + ")");
        }
        this.initial = initial;
        this.max = max;
        this.random = Objects.requireNonNull(random, "random");
    }

    /** Waits from {@code initial}, doubling, at most {@code max}, with ±50 % jitter. */
    public static Backoff of(Duration initial, Duration max) {
        return new Backoff(initial, max, () -> ThreadLocalRandom.current().nextDouble());
    }

    /** {@link #DEFAULT_INITIAL} doubling to {@link #DEFAULT_MAX}. */
    public static Backoff defaults() {
        return of(DEFAULT_INITIAL, DEFAULT_MAX);
    }

    /** The same backoff drawing its jitter from {@code random} (values in [0, 1)): for tests. */
    public Backoff withRandom(DoubleSupplier random) {
        return new Backoff(initial, max, random);
    }

    /**
     * The wait after the {@code attempt}-th consecutive failure (1 for the first).
     *
     * @throws IllegalArgumentException when {@code attempt} is below 1
     */
    public Duration wait(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempts count from 1, not " + attempt);
        }
        if (initial.isZero()) {
            return Duration.ZERO;
        }
        // In nanoseconds: a sub-millisecond initial wait still doubles (in milliseconds it would be 0).
        double cap = nanos(max);
        double exponential = Math.min(nanos(initial) * Math.pow(MULTIPLIER, attempt - 1.0), cap);
        double wait = exponential * (1 - JITTER + 2 * JITTER * random.getAsDouble());
        return wait >= cap ? max : Duration.ofNanos((long) wait);
    }

    /** {@code d} in nanoseconds, as a double: no overflow for any duration. */
    private static double nanos(Duration d) {
        return d.getSeconds() * 1e9 + d.getNano();
    }

    public Duration initial() {
        return initial;
    }

    public Duration max() {
        return max;
    }

    @Override
    public String toString() {
        return "Backoff[" + initial + " doubling to " + max + ", ±50 % jitter]";
    }
}
