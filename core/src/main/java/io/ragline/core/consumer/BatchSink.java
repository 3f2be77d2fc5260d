package io.ragline.core.consumer;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/** Where the poll loop writes a batch; returns once the batch is durable (or throws). */
@FunctionalInterface
public interface BatchSink<T> {
    /**
     * Writes {@code records}; {@code consumed} holds every record of the poll in this batch,
     * including those that were dead-lettered, so the sink can record how far it has come.
     */
    void write(List<InboundRecord<T>> records, List<ConsumerRecord<byte[], byte[]>> consumed) throws Exception;

    /**
     * Does the part of {@link #write} that needs no transaction now, on the caller's thread, and
     * returns the rest, which the loop may run on another thread ({@link OverlappedWrites}) once
     * the batch before has committed. Throws as {@code write} does. The default prepares nothing.
     */
    default PreparedWrite prepare(List<InboundRecord<T>> records, List<ConsumerRecord<byte[], byte[]>> consumed)
            throws Exception {
        return () -> write(records, consumed);
    }

    /**
     * The next offset to read that this sink stored with its work, per partition of {@code
     * partitions} it has one for; none for a sink that stores no offsets. The loop commits one
     * that is ahead of Kafka's when the partition is assigned ({@link OffsetCommitter}).
     */
    default Map<TopicPartition, Long> storedOffsets(Collection<TopicPartition> partitions) throws Exception {
        return Map.of();
    }

    /** A batch prepared by {@link #prepare}: its transaction, run once, or discarded. */
    @FunctionalInterface
    interface PreparedWrite {
        /** Writes the prepared batch and returns once it is durable (or throws, rolled back). */
        void write() throws Exception;

        /** Gives up the prepared batch without writing it (the batch before it failed). */
        default void discard() {}
    }
}
