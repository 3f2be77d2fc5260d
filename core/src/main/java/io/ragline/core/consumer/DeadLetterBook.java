package io.ragline.core.consumer;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dead-lettering for a poll loop, with its bookkeeping: publishes a record to its dead-letter
 * topic, counts it ({@code ragline_consumer_records_total{outcome="dead_lettered"}}), logs it, and
 * remembers its offset until the partition's offsets move past it or the partition is revoked,
 * so a batch rewound after its poison records were dead-lettered does not dead-letter them again
 * ({@link #wasDeadLettered}). Used by the loop's thread only.
 */
public final class DeadLetterBook {
    private static final Logger log = LoggerFactory.getLogger(DeadLetterBook.class);

    private final DeadLetters deadLetters;
    private final FailurePolicy policy;
    private final ConsumerMetrics metrics;
    /** Offsets dead-lettered and not yet committed, per partition. */
    private final Map<TopicPartition, Set<Long>> offsets = new HashMap<>();

    public DeadLetterBook(DeadLetters deadLetters, FailurePolicy policy, ConsumerMetrics metrics) {
        this.deadLetters = deadLetters;
        this.policy = policy;
        this.metrics = metrics;
    }

    /** The dead letter could not be written now (Kafka unavailable): back off and try the record again. */
    public static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(Exception cause) {
            super(cause.toString(), cause);
        }
    }

    /**
     * Publishes {@code record} to its dead-letter topic and returns once it is durable.
     *
     * @param attempts how often the record was tried, for the dead letter's headers
     * @throws Unavailable when publishing failed for a reason that may pass
     * @throws LoopFailure when publishing failed for a fatal reason
     */
    public void publish(ConsumerRecord<byte[], byte[]> record, Throwable reason, int attempts) throws Unavailable {
        try {
            deadLetters.publish(record, reason, attempts);
        } catch (Exception e) {
            if (policy.classify(e) == FailureKind.FATAL) {
                throw new LoopFailure("dead-lettering failed", e);
            }
            throw new Unavailable(e);
        }
        offsets.computeIfAbsent(new TopicPartition(record.topic(), record.partition()), tp -> new HashSet<>())
                .add(record.offset());
        metrics.deadLettered(record.topic());
        log.warn(
                "dead-lettered {}-{}@{} to {}: {}",
                record.topic(),
                record.partition(),
                record.offset(),
                DeadLetters.topicOf(record.topic()),
                reason.toString());
    }

    /** True when this loop dead-lettered {@code record} and its partition's offsets have not moved past it. */
    public boolean wasDeadLettered(ConsumerRecord<byte[], byte[]> record) {
        Set<Long> dead = offsets.get(new TopicPartition(record.topic(), record.partition()));
        return dead != null && dead.contains(record.offset());
    }

    /** The offsets moved to {@code nextOffsets} (committed, or stored with the batch): forgets what lies before. */
    public void movedTo(Map<TopicPartition, Long> nextOffsets) {
        nextOffsets.forEach((tp, next) -> {
            Set<Long> dead = offsets.get(tp);
            if (dead != null) {
                dead.removeIf(o -> o < next);
                if (dead.isEmpty()) {
                    offsets.remove(tp);
                }
            }
        });
    }

    /** The partitions are revoked or lost: their next owner decides anew. */
    public void forget(Collection<TopicPartition> partitions) {
        offsets.keySet().removeAll(partitions);
    }
}
