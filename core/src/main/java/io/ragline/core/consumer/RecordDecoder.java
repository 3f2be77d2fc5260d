package io.ragline.core.consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Turns raw bytes into a value, or says why the record is poison. Runs on the poll thread. */
@FunctionalInterface
public interface RecordDecoder<T> {
    T decode(ConsumerRecord<byte[], byte[]> record) throws PoisonRecordException;
}
