package io.ragline.core.consumer;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a loop's offsets to Kafka, synchronously, once what they cover is done (in Postgres).
 * A {@link WakeupException} ({@link LoopLifecycle#stop()} woke the consumer mid-commit) is retried
 * once, since the work is done and its offsets should move; a fatal failure stops the loop; any
 * other failure is logged and left: the records come again and find their work done (stored
 * offsets, a final row), so committing later is harmless.
 */
public final class OffsetCommitter {
    private static final Logger log = LoggerFactory.getLogger(OffsetCommitter.class);

    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final FailurePolicy policy;
    private final Duration timeout;

    public OffsetCommitter(
            org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
            FailurePolicy policy,
            Duration timeout) {
        this.consumer = consumer;
        this.policy = policy;
        this.timeout = timeout;
    }

    /**
     * Commits {@code nextOffsets} (per partition, the offset of the next record to read: the last
     * done + 1); true when Kafka took them.
     *
     * @throws LoopFailure when the commit failed for a fatal reason
     */
    public boolean commit(Map<TopicPartition, Long> nextOffsets) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        nextOffsets.forEach((tp, next) -> offsets.put(tp, new OffsetAndMetadata(next)));
        for (int tries = 0; tries < 2; tries++) {
            try {
                consumer.commitSync(offsets, timeout);
                return true;
            } catch (WakeupException e) {
                // stop() woke us while committing finished work: commit it anyway, once more.
            } catch (KafkaException e) {
                if (policy.classify(e) == FailureKind.FATAL) {
                    throw new LoopFailure("committing offsets failed", e);
                }
                log.warn("offsets {} not committed to Kafka: {}", offsets, e.toString());
                return false;
            }
        }
        return false;
    }
}
