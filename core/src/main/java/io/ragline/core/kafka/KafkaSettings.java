package io.ragline.core.kafka;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How the runtime consumes, retries and produces. Every field is a {@code RAGLINE_*} variable;
 * {@code clientProperties} are the operator's {@code RAGLINE_KAFKA_*} properties, which every
 * client {@link KafkaClients} builds gets.
 */
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
        Duration linger,
        KafkaClientProperties clientProperties,
        Optional<String> groupInstanceId,
        int replicationFactor) {

    public static final String GROUP_PREFIX = "RAGLINE_GROUP_PREFIX";
    public static final String DEFAULT_GROUP_PREFIX = "ragline";
    public static final String CONSUMER_THREADS = "RAGLINE_CONSUMER_THREADS";
    public static final int DEFAULT_CONSUMER_THREADS = 1;
    public static final String MAX_POLL_RECORDS = "RAGLINE_MAX_POLL_RECORDS";
    public static final int DEFAULT_MAX_POLL_RECORDS = 500;
    public static final String MAX_POLL_INTERVAL = "RAGLINE_MAX_POLL_INTERVAL";
    public static final Duration DEFAULT_MAX_POLL_INTERVAL = Duration.ofMinutes(5);
    public static final String BACKOFF_INITIAL = "RAGLINE_RETRY_BACKOFF_INITIAL";
    public static final Duration DEFAULT_BACKOFF_INITIAL = Duration.ofMillis(500);
    public static final String BACKOFF_MAX = "RAGLINE_RETRY_BACKOFF_MAX";
    public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofSeconds(30);
    public static final String MAX_ATTEMPTS = "RAGLINE_MAX_ATTEMPTS";
    public static final int DEFAULT_MAX_ATTEMPTS = 5;
    public static final String BREAKER_OPEN_FOR = "RAGLINE_CIRCUIT_BREAKER_OPEN";
    public static final Duration DEFAULT_BREAKER_OPEN_FOR = Duration.ofSeconds(10);
    public static final String COMPRESSION = "RAGLINE_PRODUCER_COMPRESSION";
    public static final String DEFAULT_COMPRESSION = "lz4";
    public static final String LINGER = "RAGLINE_PRODUCER_LINGER";
    public static final Duration DEFAULT_LINGER = Duration.ofMillis(5);

    /**
     * The base of this process's static group membership ({@code group.instance.id}): each consumer
     * gets it followed by its client id ({@code <base>-<process>-<binding>-<thread>}). A restarted
     * process with the same base takes its partitions back at once, with no rebalance; a member
     * that dies and does not come back holds its partitions until {@code session.timeout.ms}
     * (Kafka's default 45 s, {@code RAGLINE_KAFKA_SESSION_TIMEOUT_MS}). {@code off}: dynamic
     * membership.
     */
    public static final String GROUP_INSTANCE_ID = "RAGLINE_KAFKA_GROUP_INSTANCE_ID";
    /** Where the default of {@link #GROUP_INSTANCE_ID} comes from: a container's host name, a pod's name. */
    static final String HOSTNAME = "HOSTNAME";
    /** Set in every container Kubernetes runs: {@code HOSTNAME} is then the pod's name. */
    static final String KUBERNETES = "KUBERNETES_SERVICE_HOST";
    /** Replication factor of the topics Ragline creates; unset (or 0): {@link #REPLICATION_FROM_BROKER}. */
    public static final String REPLICATION_FACTOR = "RAGLINE_TOPIC_REPLICATION_FACTOR";
    /**
     * The broker's {@code default.replication.factor}, except that where it is 1 on a cluster of
     * several brokers, {@code min(3, brokers)} ({@link TopicAdmin}).
     */
    public static final int REPLICATION_FROM_BROKER = 0;

    private static final Pattern INSTANCE_ID_CHARS = Pattern.compile("[A-Za-z0-9._-]{1,200}");
    private static final Pattern GROUP_PREFIX_CHARS = Pattern.compile("[A-Za-z0-9._-]{1,200}");
    private static final Pattern COMPRESSIONS = Pattern.compile("none|gzip|snappy|lz4|zstd");

    /** Every rule of every field; each problem names its variable. */
    public KafkaSettings {
        Problems p = new Problems();
        p.matches(GROUP_PREFIX, groupPrefix, GROUP_PREFIX_CHARS, "may hold only letters, digits, '.', '_' and '-'");
        p.between(CONSUMER_THREADS, consumerThreads, 1, 64);
        p.between(MAX_POLL_RECORDS, maxPollRecords, 1, 10_000);
        p.positive(MAX_POLL_INTERVAL, maxPollInterval);
        p.positive(BACKOFF_INITIAL, backoffInitial);
        p.positive(BACKOFF_MAX, backoffMax);
        if (backoffInitial != null && backoffMax != null) {
            p.check(
                    backoffInitial.compareTo(backoffMax) <= 0,
                    Problems.quoted(BACKOFF_INITIAL, Problems.text(backoffInitial)) + " must not be above "
                            + Problems.quoted(BACKOFF_MAX, Problems.text(backoffMax)));
        }
        p.between(MAX_ATTEMPTS, maxAttempts, 1, 1000);
        p.positive(BREAKER_OPEN_FOR, breakerOpenFor);
        p.matches(COMPRESSION, compression, COMPRESSIONS, "must be one of none, gzip, snappy, lz4, zstd");
        p.notNegative(LINGER, linger);
        if (p.present(GROUP_INSTANCE_ID, groupInstanceId, "off for dynamic membership")) {
            groupInstanceId.ifPresent(id -> p.check(
                    INSTANCE_ID_CHARS.matcher(id).matches(),
                    Problems.quoted(GROUP_INSTANCE_ID, id) + " may hold only letters, digits, '.', '_' and '-'"
                            + " (at most 200), or be off"));
        }
        p.check(
                replicationFactor >= REPLICATION_FROM_BROKER && replicationFactor <= Short.MAX_VALUE,
                Problems.quoted(REPLICATION_FACTOR, replicationFactor) + " must be between 1 and " + Short.MAX_VALUE
                        + " (unset: the broker's default.replication.factor)");
        p.check(
                clientProperties != null,
                "the Kafka client properties (" + KafkaClientProperties.PROPERTIES_FILE
                        + ", RAGLINE_KAFKA_<NAME>) are missing");
        p.throwIfAny();
    }

    /** Reads every variable; problems are recorded in {@code env} (the defaults stand in), not thrown. */
    public static KafkaSettings from(Env env) {
        String prefix = env.string(GROUP_PREFIX, DEFAULT_GROUP_PREFIX);
        int threads = env.integer(CONSUMER_THREADS, DEFAULT_CONSUMER_THREADS);
        int maxPollRecords = env.integer(MAX_POLL_RECORDS, DEFAULT_MAX_POLL_RECORDS);
        Duration maxPollInterval = env.duration(MAX_POLL_INTERVAL, DEFAULT_MAX_POLL_INTERVAL);
        Duration initial = env.duration(BACKOFF_INITIAL, DEFAULT_BACKOFF_INITIAL);
        Duration max = env.duration(BACKOFF_MAX, DEFAULT_BACKOFF_MAX);
        int maxAttempts = env.integer(MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS);
        Duration breakerOpenFor = env.duration(BREAKER_OPEN_FOR, DEFAULT_BREAKER_OPEN_FOR);
        String compression = env.string(COMPRESSION, DEFAULT_COMPRESSION).toLowerCase(Locale.ROOT);
        Duration linger = env.duration(LINGER, DEFAULT_LINGER);
        Optional<String> instanceId = env.raw(GROUP_INSTANCE_ID)
                .map(String::strip)
                .map(id -> id.equalsIgnoreCase("off") ? Optional.<String>empty() : Optional.of(id))
                // Unset: the pod's name on Kubernetes (HOSTNAME there is unique per pod, stable across
                // a StatefulSet's restarts); elsewhere dynamic membership, as HOSTNAME is not known to
                // be unique (two replicas on one host, containers with a fixed hostname).
                .orElseGet(() -> env.raw(KUBERNETES).isPresent()
                        ? env.raw(HOSTNAME).map(String::strip).filter(h -> !h.isEmpty())
                        : Optional.empty());
        int replication = env.integer(REPLICATION_FACTOR, REPLICATION_FROM_BROKER);
        int before = env.problems().size();
        KafkaClientProperties clientProperties = KafkaClientProperties.from(env);
        KafkaSettings settings = env.build(
                () -> new KafkaSettings(
                        prefix,
                        threads,
                        maxPollRecords,
                        maxPollInterval,
                        initial,
                        max,
                        maxAttempts,
                        breakerOpenFor,
                        compression,
                        linger,
                        clientProperties,
                        instanceId,
                        replication),
                KafkaSettings::defaults);
        if (env.problems().size() == before) {
            // What only a whole configuration shows is a start-up problem, not a failure to build a client later.
            KafkaClients.configurationProblem(settings).ifPresent(env::problem);
        }
        return settings;
    }

    /**
     * The {@code group.instance.id} of the consumer {@code clientId} ({@code <base>-<clientId>}),
     * or empty for dynamic membership. Each consumer of a process has its own: one id shared by two
     * consumers would fence one of them.
     */
    public Optional<String> groupInstanceIdOf(String clientId) {
        return groupInstanceId.map(base -> base + "-" + clientId);
    }

    /** Every field at its default (dynamic membership, the broker's replication factor). */
    public static KafkaSettings defaults() {
        return new KafkaSettings(
                DEFAULT_GROUP_PREFIX,
                DEFAULT_CONSUMER_THREADS,
                DEFAULT_MAX_POLL_RECORDS,
                DEFAULT_MAX_POLL_INTERVAL,
                DEFAULT_BACKOFF_INITIAL,
                DEFAULT_BACKOFF_MAX,
                DEFAULT_MAX_ATTEMPTS,
                DEFAULT_BREAKER_OPEN_FOR,
                DEFAULT_COMPRESSION,
                DEFAULT_LINGER,
                KafkaClientProperties.none(),
                Optional.empty(),
                REPLICATION_FROM_BROKER);
    }
}
