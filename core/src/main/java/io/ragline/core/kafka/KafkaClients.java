package io.ragline.core.kafka;

import io.ragline.core.kafka.KafkaClientProperties.Client;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The only places Ragline builds Kafka clients, so every one has the same guarantees. Each client
 * is configured in three layers: Ragline's defaults (which an operator may change), then the
 * operator's {@link KafkaClientProperties} ({@code RAGLINE_KAFKA_*}: security, SASL, TLS, tuning),
 * then the properties in {@link #CONTROLLED}, which Ragline sets itself and the operator's
 * properties may not hold (refused at start-up, never silently overridden). {@code
 * partitioner.class} is left unset, so Kafka's default partitioner keeps each key on one partition.
 */
public final class KafkaClients {
    private KafkaClients() {}

    private static final String SET_BY_STARTUP_OR_PUBLISH_TIMEOUT =
            "Ragline derives it from RAGLINE_STARTUP_TIMEOUT (admin calls) and RAGLINE_OUTBOX_PUBLISH_TIMEOUT"
                    + " (the outbox's producer, whose delivery timeout must exceed it)";
    private static final String PER_KEY_ORDER =
            "Kafka's default partitioner sends every record of a key (a document's versions, one"
                    + " conversation's events) to one partition, which keeps them in order";
    private static final String COOPERATIVE =
            "Ragline's poll loops are built for the classic group protocol with cooperative-sticky"
                    + " assignment (partitions revoked one at a time)";

    /**
     * Every property Ragline sets on the clients it builds, with why: {@link KafkaClientProperties}
     * refuses each one with its reason.
     */
    public static final Map<String, String> CONTROLLED = Map.ofEntries(
            Map.entry(
                    CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                    "set KAFKA_BOOTSTRAP_SERVERS instead: the start-up check and every client read it there"),
            Map.entry(CommonClientConfigs.CLIENT_ID_CONFIG, "Ragline names each client after its process and role"),
            Map.entry(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, "Ragline's codecs write the bytes Kafka carries"),
            Map.entry(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, "Ragline's codecs write the bytes Kafka carries"),
            Map.entry(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, "Ragline's codecs read the bytes Kafka carries"),
            Map.entry(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, "Ragline's codecs read the bytes Kafka carries"),
            Map.entry(
                    ProducerConfig.ACKS_CONFIG,
                    "Ragline produces with acks=all: an outbox row is deleted only once every in-sync replica"
                            + " holds its record"),
            Map.entry(
                    ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                    "Ragline's producers are idempotent: a retried send neither duplicates nor reorders a record"),
            Map.entry(
                    ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
                    "Ragline keeps one request in flight so that a partition's batches never overtake each other"),
            Map.entry(
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                    "the event-dispatcher's transactional id is stored in the schema so that a new leader fences"
                            + " the old one; no other producer is transactional"),
            Map.entry(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "set RAGLINE_OUTBOX_PUBLISH_TIMEOUT instead"),
            Map.entry(
                    ProducerConfig.TRANSACTION_TWO_PHASE_COMMIT_ENABLE_CONFIG,
                    "two-phase commit disables the transaction timeout, and with it the fencing of a frozen"
                            + " event-dispatcher"),
            Map.entry(
                    ProducerConfig.RETRIES_CONFIG,
                    "Ragline's producers retry a send until its delivery timeout: idempotence needs retries"
                            + " above 0"),
            Map.entry(ProducerConfig.PARTITIONER_CLASS_CONFIG, PER_KEY_ORDER),
            Map.entry(ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG, PER_KEY_ORDER),
            Map.entry(
                    ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                    "Ragline bounds each send itself (2 minutes, RAGLINE_OUTBOX_PUBLISH_TIMEOUT for the outbox)"),
            Map.entry(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, SET_BY_STARTUP_OR_PUBLISH_TIMEOUT),
            Map.entry(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, SET_BY_STARTUP_OR_PUBLISH_TIMEOUT),
            Map.entry(
                    ProducerConfig.MAX_BLOCK_MS_CONFIG,
                    "Ragline lets a send wait at most 10 s for metadata so that its own timeouts and backoff"
                            + " stay in charge"),
            Map.entry(ProducerConfig.COMPRESSION_TYPE_CONFIG, "set RAGLINE_PRODUCER_COMPRESSION instead"),
            Map.entry(ProducerConfig.LINGER_MS_CONFIG, "set RAGLINE_PRODUCER_LINGER instead"),
            Map.entry(
                    ConsumerConfig.GROUP_ID_CONFIG,
                    "set RAGLINE_GROUP_PREFIX instead: each worker names its consumer groups from it"),
            Map.entry(
                    ConsumerConfig.GROUP_INSTANCE_ID_CONFIG,
                    "set RAGLINE_KAFKA_GROUP_INSTANCE_ID instead: each consumer of a process adds its own suffix"
                            + " (one static id shared by two consumers would fence one of them)"),
            Map.entry(ConsumerConfig.GROUP_PROTOCOL_CONFIG, COOPERATIVE),
            Map.entry(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, COOPERATIVE),
            Map.entry(
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                    "Ragline commits an offset only after Postgres committed what its record changed"),
            Map.entry(
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                    "Ragline reads committed records only: an aborted outbox transaction must stay invisible"),
            Map.entry(
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                    "a new consumer group starts at the earliest record so that nothing published before it"
                            + " is skipped"),
            Map.entry(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "set RAGLINE_MAX_POLL_RECORDS instead"),
            Map.entry(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "set RAGLINE_MAX_POLL_INTERVAL instead"));

    /**
     * Idempotent, {@code acks=all}, compressed, lingering briefly so that sends batch, one request
     * in flight per connection (so batches of a partition can never overtake each other). A send
     * that cannot be acknowledged within two minutes fails (and the caller retries).
     */
    public static KafkaProducer<byte[], byte[]> producer(String bootstrap, KafkaSettings settings, String clientId) {
        return new KafkaProducer<>(
                producerConfig(bootstrap, settings, clientId), new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * The same producer, transactional: {@code initTransactions()} with {@code transactionalId}
     * fences every older producer of that id. A transaction (and each send in it) not completed
     * within {@code timeout} is aborted.
     */
    public static KafkaProducer<byte[], byte[]> transactionalProducer(
            String bootstrap, KafkaSettings settings, String clientId, String transactionalId, Duration timeout) {
        return new KafkaProducer<>(
                transactionalConfig(bootstrap, settings, clientId, transactionalId, timeout),
                new ByteArraySerializer(),
                new ByteArraySerializer());
    }

    private static Properties transactionalConfig(
            String bootstrap, KafkaSettings settings, String clientId, String transactionalId, Duration timeout) {
        Properties p = producerConfig(bootstrap, settings, clientId);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        int millis = (int) timeout.toMillis();
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, millis);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.max(1_000, Math.min(30_000, millis / 2)));
        p.put(
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                millis + (int) settings.linger().toMillis());
        return p;
    }

    /**
     * Why Kafka's own definitions refuse the configuration of a client kind Ragline builds (a
     * producer, a transactional one, a consumer, an admin client) with the operator's properties
     * and Ragline's controlled values applied, naming the operator's properties Kafka's message
     * names, masked; empty when all are taken. Nothing connects: for start-up, so that a refusal
     * that only a whole configuration shows is not met first when a client is built.
     */
    public static Optional<String> configurationProblem(KafkaSettings settings) {
        String bootstrap = "localhost:9092";
        String id = "ragline-configuration-check";
        try {
            // The serializers are given to the clients' constructors, so they are added here.
            for (Properties producer : List.of(
                    producerConfig(bootstrap, settings, id),
                    transactionalConfig(bootstrap, settings, id, id, Duration.ofMinutes(1)))) {
                producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
                producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
                new ProducerConfig(producer);
            }
            Properties consumer = consumerConfig(bootstrap, settings, id, id, settings.maxPollRecords());
            consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            new ConsumerConfig(consumer);
            new AdminClientConfig(adminConfig(bootstrap, settings.clientProperties(), id, Duration.ofMinutes(1)));
            return Optional.empty();
        } catch (RuntimeException e) {
            KafkaClientProperties properties = settings.clientProperties();
            String message = String.valueOf(e.getMessage());
            String named = properties.all().stream()
                    .filter(p -> message.contains(p.name()))
                    .map(p -> p.origin().describe(p.name()))
                    .collect(Collectors.joining(", "));
            return Optional.of("the Kafka client properties ("
                    + (named.isEmpty() ? KafkaClientProperties.PROPERTIES_FILE + ", RAGLINE_KAFKA_<NAME>" : named)
                    + ") are refused by Kafka: " + properties.mask(message));
        }
    }

    private static Properties producerConfig(String bootstrap, KafkaSettings settings, String clientId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
        settings.clientProperties().addTo(p, Client.PRODUCER);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
        p.put(ProducerConfig.PARTITIONER_IGNORE_KEYS_CONFIG, false);
        p.put(ProducerConfig.TRANSACTION_TWO_PHASE_COMMIT_ENABLE_CONFIG, false);
        // One request in flight per connection: on a partition created a moment ago (dead-letter
        // topics are created at start-up) the broker can refuse a first batch (NOT_LEADER) yet
        // accept a later one already in flight, after which the first is refused for ever as out
        // of sequence (seen with Kafka 4.3). Larger batches keep the throughput.
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, settings.compression());
        p.put(ProducerConfig.LINGER_MS_CONFIG, (int) settings.linger().toMillis());
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        // send() blocks while it has no metadata (Kafka down): 10 s, not the default minute, so the
        // caller's own timeouts and backoff stay in charge.
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        return p;
    }

    /**
     * Manual commits only, cooperative-sticky rebalancing (classic group protocol), reading
     * committed data only, starting from the earliest record a new group has not seen.
     */
    public static KafkaConsumer<byte[], byte[]> consumer(
            String bootstrap, KafkaSettings settings, String groupId, String clientId) {
        return consumer(bootstrap, settings, groupId, clientId, settings.maxPollRecords());
    }

    /**
     * As {@link #consumer(String, KafkaSettings, String, String)}, with batches of at most {@code
     * maxPollRecords}; dynamic membership.
     */
    public static KafkaConsumer<byte[], byte[]> consumer(
            String bootstrap, KafkaSettings settings, String groupId, String clientId, int maxPollRecords) {
        return consumer(bootstrap, settings, groupId, clientId, maxPollRecords, Optional.empty());
    }

    /**
     * As {@link #consumer(String, KafkaSettings, String, String, int)}, a static member of the group
     * when {@code groupInstanceId} is given ({@link KafkaSettings#groupInstanceIdOf}).
     */
    public static KafkaConsumer<byte[], byte[]> consumer(
            String bootstrap,
            KafkaSettings settings,
            String groupId,
            String clientId,
            int maxPollRecords,
            Optional<String> groupInstanceId) {
        Properties p = consumerConfig(bootstrap, settings, groupId, clientId, maxPollRecords);
        groupInstanceId.ifPresent(id -> p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, id));
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static Properties consumerConfig(
            String bootstrap, KafkaSettings settings, String groupId, String clientId, int maxPollRecords) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, 5_000);
        settings.clientProperties().addTo(p, Client.CONSUMER);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, (int)
                settings.maxPollInterval().toMillis());
        return p;
    }

    /**
     * An admin client whose calls (and each request) are bounded by {@code timeout}, connecting
     * within at most 5 s and retrying a broker at least every second (defaults the operator may
     * change).
     */
    public static Admin admin(String bootstrap, KafkaClientProperties properties, String clientId, Duration timeout) {
        return Admin.create(adminConfig(bootstrap, properties, clientId, timeout));
    }

    private static Properties adminConfig(
            String bootstrap, KafkaClientProperties properties, String clientId, Duration timeout) {
        int ms = (int) Math.max(1_000, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        Properties p = new Properties();
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, Math.min(ms, 5_000));
        p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, Math.min(ms, 5_000));
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
        properties.addTo(p, Client.ADMIN);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
        return p;
    }
}
