package io.ragline.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Topics on the real test broker, each with a unique name so tests never see each other's data. */
public final class KafkaTopics {
    private KafkaTopics() {}

    public static String bootstrapServers() {
        return TestServices.get().kafkaBootstrapServers();
    }

    /** A new topic named {@code base-<random>} with {@code partitions} partitions. */
    public static String create(String base, int partitions) {
        return createNamed(base + "-" + UUID.randomUUID().toString().substring(0, 8), partitions);
    }

    /**
     * A new topic of exactly this name (one a worker derives from {@code RAGLINE_TOPIC_PREFIX}, say)
     * with {@code partitions} partitions, created before the worker would create it with its default.
     */
    public static String createNamed(String name, int partitions) {
        return createNamed(bootstrapServers(), name, partitions);
    }

    /** {@link #create(String, int)} on the brokers at {@code bootstrapServers} (a {@link ProxiedKafka}'s, say). */
    public static String create(String bootstrapServers, String base, int partitions) {
        return createNamed(
                bootstrapServers, base + "-" + UUID.randomUUID().toString().substring(0, 8), partitions);
    }

    private static String createNamed(String bootstrapServers, String name, int partitions) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            awaitLeaders(admin, name);
            return name;
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot create topic " + name + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Until every partition has a leader: a producer that writes to a topic the moment it exists
     * can get NOT_LEADER errors and, idempotent, wedge itself retrying out-of-order sequences.
     */
    private static void awaitLeaders(Admin admin, String topic) throws InterruptedException, ExecutionException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                var description = admin.describeTopics(List.of(topic))
                        .allTopicNames()
                        .get()
                        .get(topic);
                if (description != null && description.partitions().stream().allMatch(p -> p.leader() != null)) {
                    return;
                }
            } catch (ExecutionException e) {
                // A broker under load can answer for a topic created a moment ago before its
                // metadata reached it: ask again, like a leader not elected yet.
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
                    throw e;
                }
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("topic " + topic + " has partitions without a leader after 30 s");
    }

    /**
     * An idempotent producer whose sends fail within a minute rather than retrying for ever, with
     * one request in flight: on a partition created a moment ago the broker can refuse a first
     * batch (NOT_LEADER) yet accept the next one already in flight, after which the first is
     * refused for ever as out of sequence (seen with Kafka 4.3). One in flight cannot reorder.
     */
    public static KafkaProducer<String, String> producer() {
        return producer(bootstrapServers());
    }

    /** {@link #producer()} for the brokers at {@code bootstrapServers} (a {@link KafkaCluster}'s, say). */
    public static KafkaProducer<String, String> producer(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /** A {@code read_committed} consumer of strings, from the earliest offset, without auto-commit. */
    public static KafkaConsumer<String, String> consumer(String group) {
        return consumer(bootstrapServers(), group);
    }

    /** {@link #consumer(String)} of the brokers at {@code bootstrapServers}. */
    public static KafkaConsumer<String, String> consumer(String bootstrapServers, String group) {
        return consumer(bootstrapServers, group, "read_committed");
    }

    private static KafkaConsumer<String, String> consumer(String bootstrapServers, String group, String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // What Ragline's consumers see: the outbox publishes in transactions, and an aborted one
        // must stay invisible to a test as it does to them.
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /** Sends {@code count} records keyed {@code key-<i>} with {@code value(i)}, and waits for them all. */
    public static void produce(String topic, int count, java.util.function.IntFunction<String> value) {
        try (KafkaProducer<String, String> producer = producer()) {
            for (int i = 0; i < count; i++) {
                producer.send(
                        new org.apache.kafka.clients.producer.ProducerRecord<>(topic, "key-" + i, value.apply(i)));
            }
            producer.flush();
        }
    }

    /** The end offset of each partition of {@code topic}: how many records it has ever held. */
    public static Map<Integer, Long> endOffsets(String topic) {
        try (KafkaConsumer<String, String> c = consumer("end-offsets-" + UUID.randomUUID())) {
            List<org.apache.kafka.common.TopicPartition> partitions = c.partitionsFor(topic).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition()))
                    .toList();
            Map<Integer, Long> ends = new java.util.TreeMap<>();
            c.endOffsets(partitions).forEach((tp, end) -> ends.put(tp.partition(), end));
            return ends;
        }
    }

    /**
     * Reads every committed record {@code topic} holds now: from the beginning up to each
     * partition's end offset (for a {@code read_committed} reader, the last stable offset).
     * Offsets also count transaction markers and aborted records, so their sum is not a count.
     */
    public static List<ConsumerRecord<String, String>> readAll(String topic, Duration timeout) {
        return readAll(bootstrapServers(), topic, timeout);
    }

    /** {@link #readAll(String, Duration)} of the brokers at {@code bootstrapServers}. */
    public static List<ConsumerRecord<String, String>> readAll(
            String bootstrapServers, String topic, Duration timeout) {
        return readAll(bootstrapServers, topic, timeout, "read_committed");
    }

    /**
     * Every record {@code topic} holds now, up to each partition's high watermark, whatever became
     * of its transaction ({@code read_uncommitted}): records of aborted transactions and of open
     * ones too, in the order of their offsets (not markers), to show what was sent and then aborted.
     */
    public static List<ConsumerRecord<String, String>> readAllUncommitted(
            String bootstrapServers, String topic, Duration timeout) {
        return readAll(bootstrapServers, topic, timeout, "read_uncommitted");
    }

    private static List<ConsumerRecord<String, String>> readAll(
            String bootstrapServers, String topic, Duration timeout, String isolation) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> c =
                consumer(bootstrapServers, "test-reader-" + UUID.randomUUID(), isolation)) {
            List<org.apache.kafka.common.TopicPartition> partitions = c.partitionsFor(topic).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition()))
                    .toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<org.apache.kafka.common.TopicPartition, Long> ends = c.endOffsets(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (partitions.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("did not reach the end of " + topic + " within " + timeout);
                }
                c.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    /** Reads {@code topic} from the beginning until {@code count} records arrived or {@code timeout}. */
    public static List<ConsumerRecord<String, String>> read(String topic, int count, Duration timeout) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> c = consumer("test-reader-" + UUID.randomUUID())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }
}
