package io.ragline.console.deadletters;

import io.ragline.contracts.Topic;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.consumer.KafkaDeadLetters;
import io.ragline.core.kafka.KafkaClients;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The Kafka dead-letter topics of this deployment ({@code <RAGLINE_TOPIC_PREFIX><topic>.dlq}) as
 * the console reads them: with an admin client and a consumer of its own that is assigned the
 * partition it reads and seeks to an offset (no consumer group, nothing committed), and a
 * producer that publishes a redriven record to its source topic. Each client is built by {@link
 * KafkaClients} for one call and closed after it (a redrive uses the process's producer), so the
 * console holds no Kafka state between requests. Topics outside this deployment's dead-letter topics are never read.
 */
public final class DeadLetterTopics {
    /** The longest a Kafka call of one request may take. */
    public static final Duration TIMEOUT = Duration.ofSeconds(10);
    /** Header a redriven record carries: the dead letter it came from, {@code <topic>/<partition>/<offset>}. */
    public static final String REDRIVEN_FROM = "ragline.redriven.from";
    /** The prefix of the headers {@link KafkaDeadLetters} adds, left out of a redriven record. */
    static final String DEAD_LETTER_HEADERS = "ragline.dlq.";

    private final CoreSettings settings;

    public DeadLetterTopics(CoreSettings settings) {
        this.settings = settings;
    }

    /** A partition of a dead-letter topic: its first offset and the offset after its last committed record. */
    public record PartitionRange(int partition, long startOffset, long endOffset) {}

    /** A dead-letter topic, the topic whose poison records it holds, and its partitions. */
    public record DeadLetterTopic(String topic, String sourceTopic, List<PartitionRange> partitions) {}

    /**
     * A record of a dead-letter topic. Its headers are those of the poison record plus {@link
     * KafkaDeadLetters}'s, in order (a name met twice keeps the last value in {@link
     * #headerMap()}).
     */
    public record DeadLetter(
            String topic, int partition, long offset, long timestamp, byte[] key, byte[] value, List<Header> headers) {

        public Map<String, String> headerMap() {
            Map<String, String> map = new TreeMap<>();
            headers.forEach(h -> map.put(h.key(), h.value() == null ? null : utf8(h.value())));
            return map;
        }

        /** The error {@link KafkaDeadLetters} recorded: {@code <class>: <message>}, or null without one. */
        public String reason() {
            Map<String, String> h = headerMap();
            String message = h.get(KafkaDeadLetters.ERROR_MESSAGE);
            String type = h.get(KafkaDeadLetters.ERROR_CLASS);
            if (message == null && type == null) {
                return null;
            }
            return type == null ? message : type.substring(type.lastIndexOf('.') + 1) + ": " + message;
        }

        /** The topic the poison record was read from (header {@value KafkaDeadLetters#TOPIC}), if named. */
        public Optional<String> sourceTopic() {
            return Optional.ofNullable(headerMap().get(KafkaDeadLetters.TOPIC));
        }
    }

    /**
     * True when {@code topic} is the dead-letter topic of one of this deployment's topics (it may
     * not exist yet): exactly {@code <prefix><topic>.dlq} for a topic of the catalogue, never a
     * name that only looks like one, so another deployment's topics (a longer prefix, or none) and
     * other applications' {@code *.dlq} topics on the same cluster are neither read nor redriven.
     */
    public boolean isDeadLetterTopic(String topic) {
        for (Topic t : Topic.values()) {
            if (topic.equals(settings.topic(t.deadLetter()))) {
                return true;
            }
        }
        return false;
    }

    /** The topic whose dead letters {@code deadLetterTopic} holds. */
    public static String sourceOf(String deadLetterTopic) {
        return deadLetterTopic.substring(0, deadLetterTopic.length() - Topic.DEAD_LETTER_SUFFIX.length());
    }

    /** Every dead-letter topic of this deployment on the broker, by name, with its partitions' offsets. */
    public List<DeadLetterTopic> list() throws Exception {
        try (Admin admin = admin()) {
            List<String> names = admin.listTopics().names().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).stream()
                    .filter(this::isDeadLetterTopic)
                    .sorted()
                    .toList();
            return describe(admin, names);
        }
    }

    /** The dead-letter topic {@code topic}, or empty when it is none of this deployment's or does not exist. */
    public Optional<DeadLetterTopic> find(String topic) throws Exception {
        if (!isDeadLetterTopic(topic)) {
            return Optional.empty();
        }
        try (Admin admin = admin()) {
            if (!admin.listTopics()
                    .names()
                    .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                    .contains(topic)) {
                return Optional.empty();
            }
            return describe(admin, List.of(topic)).stream().findFirst();
        }
    }

    private List<DeadLetterTopic> describe(Admin admin, List<String> names) throws Exception {
        if (names.isEmpty()) {
            return List.of();
        }
        Map<String, TopicDescription> descriptions =
                admin.describeTopics(names).allTopicNames().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        descriptions
                .values()
                .forEach(d -> d.partitions().forEach(p -> {
                    TopicPartition tp = new TopicPartition(d.name(), p.partition());
                    earliest.put(tp, OffsetSpec.earliest());
                    latest.put(tp, OffsetSpec.latest());
                }));
        ListOffsetsOptions committed = new ListOffsetsOptions(IsolationLevel.READ_COMMITTED);
        var starts = admin.listOffsets(earliest, committed).all().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        var ends = admin.listOffsets(latest, committed).all().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        List<DeadLetterTopic> topics = new ArrayList<>();
        for (String name : names) {
            List<PartitionRange> partitions = descriptions.get(name).partitions().stream()
                    .map(p -> {
                        TopicPartition tp = new TopicPartition(name, p.partition());
                        return new PartitionRange(
                                p.partition(),
                                starts.get(tp).offset(),
                                ends.get(tp).offset());
                    })
                    .sorted((a, b) -> Integer.compare(a.partition(), b.partition()))
                    .toList();
            topics.add(new DeadLetterTopic(name, sourceOf(name), partitions));
        }
        return topics;
    }

    /**
     * Up to {@code limit} records of one partition from {@code fromOffset} (at least its start),
     * in offset order, stopping at {@code endOffset}: only committed records are read.
     */
    public List<DeadLetter> read(String topic, PartitionRange range, long fromOffset, int limit) {
        long from = Math.max(fromOffset, range.startOffset());
        if (from >= range.endOffset() || limit <= 0) {
            return List.of();
        }
        TopicPartition tp = new TopicPartition(topic, range.partition());
        List<DeadLetter> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = KafkaClients.consumer(
                settings.kafkaBootstrapServers(),
                settings.kafka(),
                settings.kafka().groupPrefix() + ".console",
                "ragline-console-dead-letters",
                limit)) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, from);
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (out.size() < limit && consumer.position(tp, TIMEOUT) < range.endOffset()) {
                if (System.nanoTime() > deadline) {
                    throw new org.apache.kafka.common.errors.TimeoutException("reading " + tp + " from offset " + from
                            + " did not reach offset " + range.endOffset() + " within " + TIMEOUT.toSeconds() + " s");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (out.size() < limit && r.offset() < range.endOffset()) {
                        out.add(new DeadLetter(
                                r.topic(),
                                r.partition(),
                                r.offset(),
                                r.timestamp(),
                                r.key(),
                                r.value(),
                                List.of(r.headers().toArray())));
                    }
                }
            }
        }
        return Collections.unmodifiableList(out);
    }

    /** The record at {@code offset} of the partition, or empty when the partition holds none there. */
    public Optional<DeadLetter> readOne(String topic, PartitionRange range, long offset) {
        if (offset < range.startOffset() || offset >= range.endOffset()) {
            return Optional.empty();
        }
        return read(topic, range, offset, 1).stream()
                .filter(r -> r.offset() == offset)
                .findFirst();
    }

    /**
     * Publishes {@code deadLetter} again to {@code sourceTopic} with {@code producer}: its key,
     * {@code value} (the original or a replacement), its headers without {@link KafkaDeadLetters}'s,
     * and {@link #REDRIVEN_FROM}. Returns once Kafka acknowledged it ({@code acks=all}).
     */
    static RecordMetadata redrive(
            Producer<byte[], byte[]> producer, DeadLetter deadLetter, String sourceTopic, byte[] value)
            throws Exception {
        RecordHeaders headers = new RecordHeaders();
        deadLetter.headers().stream()
                .filter(h -> !h.key().startsWith(DEAD_LETTER_HEADERS))
                .forEach(headers::add);
        headers.add(
                REDRIVEN_FROM,
                (deadLetter.topic() + "/" + deadLetter.partition() + "/" + deadLetter.offset())
                        .getBytes(StandardCharsets.UTF_8));
        return producer.send(new ProducerRecord<>(sourceTopic, null, deadLetter.key(), value, headers))
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private Admin admin() {
        return KafkaClients.admin(
                settings.kafkaBootstrapServers(),
                settings.kafka().clientProperties(),
                "ragline-console-admin",
                TIMEOUT);
    }

    static String utf8(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }
}
