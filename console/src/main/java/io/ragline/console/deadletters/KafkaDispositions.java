package io.ragline.console.deadletters;

import io.ragline.console.deadletters.DeadLetterTopics.DeadLetter;
import io.ragline.console.deadletters.DeadLetterTopics.PartitionRange;
import io.ragline.console.deadletters.Dispositions.Action;
import io.ragline.console.deadletters.Dispositions.Actor;
import io.ragline.console.deadletters.Dispositions.Disposition;
import io.ragline.contracts.Topic;
import io.ragline.core.consumer.KafkaDeadLetters;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Redrive and discard of a record of a Kafka dead-letter topic, each recorded in {@code
 * dead_letter_dispositions}. A redrive claims the record's disposition, publishes the record to
 * its source topic (the one its header {@value KafkaDeadLetters#TOPIC} names, which must be the
 * topic whose dead letters this topic holds) and commits the claim only once Kafka acknowledged the
 * record: a failed publish leaves no disposition, and a second redrive of a record finds the first
 * one's and is refused, so a redrive that answered success published the record once. The order
 * of refusals: no such record (404), a replacement its topic's contract refuses (422), dealt with
 * already (409).
 */
public final class KafkaDispositions {
    private final DeadLetterTopics topics;
    private final Supplier<Producer<byte[], byte[]>> producer;
    private final DataSource database;
    private final String topicPrefix;

    /** @param producer the process's producer, asked for only when a record is redriven */
    public KafkaDispositions(
            DeadLetterTopics topics,
            Supplier<Producer<byte[], byte[]>> producer,
            DataSource database,
            String topicPrefix) {
        this.topics = topics;
        this.producer = producer;
        this.database = database;
        this.topicPrefix = topicPrefix;
    }

    /** Where a redriven record went, and the disposition recorded. */
    public record Redriven(String topic, int partition, long offset, Disposition disposition) {}

    /**
     * Publishes the dead letter at {@code topic}, {@code partition}, {@code offset} again to its
     * source topic, with its key and headers, and {@code replacement} (UTF-8) as its value when not null.
     */
    public Redriven redrive(String topic, int partition, long offset, String replacement, Actor by)
            throws Exception, Refusal {
        DeadLetter deadLetter = locate(topic, partition, offset);
        String source = deadLetter
                .sourceTopic()
                .orElseThrow(() -> Refusal.unprocessable(
                        describe(topic, partition, offset) + " names no source topic (header " + KafkaDeadLetters.TOPIC
                                + ")",
                        Map.of()));
        if (!Topic.deadLetterOf(source).equals(topic)) {
            throw Refusal.unprocessable(
                    describe(topic, partition, offset) + " names the source topic " + source + ", whose dead letters"
                            + " are not in " + topic,
                    Map.of());
        }
        byte[] value = replacement == null ? deadLetter.value() : replacement.getBytes(StandardCharsets.UTF_8);
        if (replacement != null) {
            String unprefixed = source.startsWith(topicPrefix) ? source.substring(topicPrefix.length()) : source;
            var problem = ReplacementCheck.problem(unprefixed, ReplacementCheck.utf8(deadLetter.key()), value);
            if (problem.isPresent()) {
                throw Refusal.unprocessable(
                        "the replacement value breaks the contract of topic " + source, Map.of("value", problem.get()));
            }
        }
        try (Connection c = database.getConnection()) {
            c.setAutoCommit(false);
            try {
                claim(c, topic, partition, offset, Action.REDRIVEN, by, Map.of("replaced", replacement != null));
                RecordMetadata sent;
                try {
                    sent = DeadLetterTopics.redrive(producer.get(), deadLetter, source, value);
                } catch (java.util.concurrent.TimeoutException e) {
                    // The producer goes on trying after we stop waiting, so the record may still arrive: keep
                    // the claim, so that a second redrive cannot publish it twice, and say so.
                    Dispositions.completeKafka(c, topic, partition, offset, Map.of("delivery", "unknown"));
                    c.commit();
                    c.setAutoCommit(true);
                    throw io.ragline.console.api.ApiProblem.unavailable("Kafka did not acknowledge the redrive of "
                            + describe(topic, partition, offset) + " in time: it may still arrive in " + source
                            + ", so it is recorded as redriven (delivery unknown); look in " + source
                            + " before publishing it another way");
                }
                Dispositions.completeKafka(
                        c,
                        topic,
                        partition,
                        offset,
                        Map.of("topic", sent.topic(), "partition", sent.partition(), "offset", sent.offset()));
                c.commit();
                c.setAutoCommit(true);
                return new Redriven(
                        sent.topic(), sent.partition(), sent.offset(), disposition(c, topic, partition, offset));
            } catch (io.ragline.console.api.ApiProblem committed) {
                throw committed; // the claim is committed: nothing to roll back
            } catch (Exception e) {
                rollback(c);
                throw e;
            }
        }
    }

    /** Records that the dead letter at {@code topic}, {@code partition}, {@code offset} is dealt with, publishing nothing. */
    public Disposition discard(String topic, int partition, long offset, Actor by) throws Exception, Refusal {
        locate(topic, partition, offset);
        try (Connection c = database.getConnection()) {
            c.setAutoCommit(false);
            try {
                claim(c, topic, partition, offset, Action.DISCARDED, by, Map.of());
                c.commit();
                c.setAutoCommit(true);
                return disposition(c, topic, partition, offset);
            } catch (Exception e) {
                rollback(c);
                throw e;
            }
        }
    }

    private DeadLetter locate(String topic, int partition, long offset) throws Exception, Refusal {
        var deadLetterTopic = topics.find(topic).orElseThrow(() -> Refusal.notFound("no dead-letter topic " + topic));
        PartitionRange range = deadLetterTopic.partitions().stream()
                .filter(p -> p.partition() == partition)
                .findFirst()
                .orElseThrow(() -> Refusal.notFound(topic + " has no partition " + partition));
        return topics.readOne(topic, range, offset)
                .orElseThrow(() -> Refusal.notFound(topic + " partition " + partition + " holds no record at offset "
                        + offset + " (it holds " + range.startOffset() + " to " + (range.endOffset() - 1) + ")"));
    }

    private static void claim(
            Connection c, String topic, int partition, long offset, Action action, Actor by, Map<String, ?> detail)
            throws SQLException, Refusal {
        if (!Dispositions.claimKafka(c, topic, partition, offset, action, by, detail)) {
            Disposition before = disposition(c, topic, partition, offset);
            throw Refusal.conflict(describe(topic, partition, offset) + " was "
                    + before.action().stored() + " by " + before.by() + " at " + before.at());
        }
    }

    private static Disposition disposition(Connection c, String topic, int partition, long offset) throws SQLException {
        Disposition d =
                Dispositions.ofKafka(c, topic, partition, offset, offset + 1).get(offset);
        if (d == null) {
            throw new SQLException("the disposition of " + describe(topic, partition, offset) + " is missing");
        }
        return d;
    }

    private static void rollback(Connection c) throws SQLException {
        if (!c.getAutoCommit()) {
            c.rollback();
        }
    }

    private static String describe(String topic, int partition, long offset) {
        return "dead letter " + topic + "-" + partition + "@" + offset;
    }
}
