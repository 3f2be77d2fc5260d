package io.ragline.core.consumer;

import java.util.List;

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
}
