package io.ragline.core.kafka;

import io.ragline.core.config.Env;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;

/** How the runtime consumes, retries and produces. Every field is a {@code RAGLINE_*} variable. */
public record KafkaSettings(
        String groupPrefix,
        int consumerThreads,
        int maxPollRecords,
        Duration maxPollInterval,
        Duration backoffInitial,
        Duration backoffMax,
        int maxAttempts,
        Duration breakerOpenFor,
        String compression,
        Duration linger) {

    public static final String GROUP_PREFIX = "RAGLINE_GROUP_PREFIX";
    public static final String CONSUMER_THREADS = "RAGLINE_CONSUMER_THREADS";
    public static final String MAX_POLL_RECORDS = "RAGLINE_MAX_POLL_RECORDS";
    public static final String MAX_POLL_INTERVAL = "RAGLINE_MAX_POLL_INTERVAL";
    public static final String BACKOFF_INITIAL = "RAGLINE_RETRY_BACKOFF_INITIAL";
    public static final String BACKOFF_MAX = "RAGLINE_RETRY_BACKOFF_MAX";
    public static final String MAX_ATTEMPTS = "RAGLINE_MAX_ATTEMPTS";
    public static final String BREAKER_OPEN_FOR = "RAGLINE_CIRCUIT_BREAKER_OPEN";
    public static final String COMPRESSION = "RAGLINE_PRODUCER_COMPRESSION";
    public static final String LINGER = "RAGLINE_PRODUCER_LINGER";

    private static final Set<String> COMPRESSIONS = Set.of("none", "gzip", "snappy", "lz4", "zstd");

    public static KafkaSettings from(Env env) {
        String compression = env.string(COMPRESSION, "lz4").toLowerCase(Locale.ROOT);
        if (!COMPRESSIONS.contains(compression)) {
            env.problem(COMPRESSION + "='" + compression + "' must be one of none, gzip, snappy, lz4, zstd");
        }
        String prefix = env.string(GROUP_PREFIX, "ragline");
        if (!prefix.matches("[A-Za-z0-9._-]{1,200}")) {
            env.problem(GROUP_PREFIX + "='" + prefix + "' may hold only letters, digits, '.', '_' and '-'");
        }
        Duration initial = env.duration(BACKOFF_INITIAL, Duration.ofMillis(500));
        Duration max = env.duration(BACKOFF_MAX, Duration.ofSeconds(30));
        if (initial.isZero() || max.compareTo(initial) < 0) {
            env.problem(BACKOFF_INITIAL + " must be positive and not above " + BACKOFF_MAX);
        }
        return new KafkaSettings(
                prefix,
                env.integer(CONSUMER_THREADS, 1, 1, 64),
                env.integer(MAX_POLL_RECORDS, 500, 1, 10_000),
                env.duration(MAX_POLL_INTERVAL, Duration.ofMinutes(5)),
                initial,
                max,
                env.integer(MAX_ATTEMPTS, 5, 1, 1000),
                env.duration(BREAKER_OPEN_FOR, Duration.ofSeconds(10)),
                compression,
                env.duration(LINGER, Duration.ofMillis(5)));
    }
}
