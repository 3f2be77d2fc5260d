package io.ragline.core.kafka;

import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** The only places Ragline builds Kafka clients, so every one has the same guarantees. */
public final class KafkaClients {
    private KafkaClients() {}

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
            String bootstrap,
            KafkaSettings settings,
            String clientId,
            String transactionalId,
            java.time.Duration timeout) {
        Properties p = producerConfig(bootstrap, settings, clientId);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        int millis = (int) timeout.toMillis();
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, millis);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.max(1_000, Math.min(30_000, millis / 2)));
        p.put(
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                millis + (int) settings.linger().toMillis());
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static Properties producerConfig(String bootstrap, KafkaSettings settings, String clientId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // One request in flight per connection: on a partition created a moment ago (dead-letter
        // topics are created at start-up) the broker can refuse a first batch (NOT_LEADER) yet
        // accept a later one already in flight, after which the first is refused for ever as out
        // of sequence (seen with Kafka 4.3). Larger batches keep the throughput.
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
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

    /** As {@link #consumer(String, KafkaSettings, String, String)}, with batches of at most {@code maxPollRecords}. */
    public static KafkaConsumer<byte[], byte[]> consumer(
            String bootstrap, KafkaSettings settings, String groupId, String clientId, int maxPollRecords) {
        Properties p = new Properties();
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
        p.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, 5_000);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
