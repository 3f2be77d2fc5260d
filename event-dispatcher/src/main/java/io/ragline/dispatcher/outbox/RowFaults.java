package io.ragline.dispatcher.outbox;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Tells a failure that is one row's own (Kafka will refuse that row whatever we do: too large, not
 * serializable) or its topic's (an invalid or forbidden topic, a topic that does not exist while
 * auto-creation is off: every row of the topic is refused) from a failure of Kafka itself
 * (unreachable, no leader, a timeout), which must never count against a row. A missing topic and
 * an unreachable broker both show as a metadata timeout; the cluster is asked whether the topic
 * exists to tell them apart.
 */
public final class RowFaults {
    /** Whether a topic exists, as the cluster answers; {@code null} when it cannot be asked. */
    @FunctionalInterface
    public interface TopicProbe {
        Boolean exists(String topic);
    }

    /** Whose fault a failed send was. */
    public enum Fault {
        /** Kafka's own (unreachable, no leader, a timeout): it never counts against a row. */
        KAFKA,
        /** The row's own (too large, not serializable): only the row's key waits. */
        ROW,
        /** The topic's (an invalid name, not authorised): every row of the topic waits. */
        TOPIC,
        /**
         * The topic does not exist and Kafka does not create it: as {@link #TOPIC}. A send to it
         * blocks for {@code max.block.ms}, so the cluster is asked again before the next one.
         */
        MISSING_TOPIC
    }

    private final TopicProbe probe;
    private final String topicPrefix;

    public RowFaults(TopicProbe probe, String topicPrefix) {
        this.probe = probe;
        this.topicPrefix = topicPrefix;
    }

    /** Whose fault {@code failure}, met while sending {@code row}, was. */
    public Fault classify(OutboxRow row, Throwable failure) {
        for (Throwable e = failure; e != null; e = e.getCause()) {
            if (e instanceof RecordTooLargeException
                    || e instanceof RecordBatchTooLargeException
                    || e instanceof SerializationException) {
                return Fault.ROW;
            }
            if (e instanceof InvalidTopicException || e instanceof TopicAuthorizationException) {
                return Fault.TOPIC;
            }
            if (e instanceof UnknownTopicOrPartitionException) {
                return Fault.MISSING_TOPIC;
            }
            if (e instanceof TimeoutException
                    && e.getMessage() != null
                    && e.getMessage().contains("not present in metadata")) {
                return Boolean.FALSE.equals(exists(row.topic())) ? Fault.MISSING_TOPIC : Fault.KAFKA;
            }
        }
        return Fault.KAFKA;
    }

    /** Whether the outbox topic {@code topic} (prefix added) exists; {@code null} when the cluster cannot say. */
    public Boolean exists(String topic) {
        return probe.exists(topicPrefix + topic);
    }

    /** Asks the cluster through an admin client, giving up after {@code timeout}. */
    public static TopicProbe admin(Admin admin, Duration timeout) {
        return topic -> {
            try {
                admin.describeTopics(java.util.List.of(topic))
                        .allTopicNames()
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                return true;
            } catch (ExecutionException e) {
                return e.getCause() instanceof UnknownTopicOrPartitionException ? false : null;
            } catch (java.util.concurrent.TimeoutException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        };
    }
}
