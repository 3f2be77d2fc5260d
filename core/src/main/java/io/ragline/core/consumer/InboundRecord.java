package io.ragline.core.consumer;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/** A consumed record and its decoded value (null for a tombstone, when the decoder allows it). */
public record InboundRecord<T>(ConsumerRecord<byte[], byte[]> raw, T value) {
    public String topic() {
        return raw.topic();
    }

    public int partition() {
        return raw.partition();
    }

    public long offset() {
        return raw.offset();
    }

    /** The record key as UTF-8 text, or null. */
    public String key() {
        return raw.key() == null ? null : new String(raw.key(), java.nio.charset.StandardCharsets.UTF_8);
    }
}
