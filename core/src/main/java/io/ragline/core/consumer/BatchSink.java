package io.ragline.core.consumer;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;

/** Where the poll loop writes a batch; returns once the batch is durable (or throws). */
@FunctionalInterface
public interface BatchSink<T> {
    /**
     * Writes {@code records}; {@code consumed} holds every record of the poll in this batch,
     * including those that were dead-lettered, so the sink can record how far it has come.
     */
    void write(
            List<InboundRecord<T>> records,
            List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> consumed)
            throws Exception;

    /**
     * The next offset to read that this sink stored with its work, per partition of {@code
     * partitions} it has one for; none for a sink that stores no offsets. The loop commits one
     * that is ahead of Kafka's when the partition is assigned ({@link OffsetCommitter}).
     */
    default Map<TopicPartition, Long> storedOffsets(Collection<TopicPartition> partitions) throws Exception {
        return Map.of();
    }
}
