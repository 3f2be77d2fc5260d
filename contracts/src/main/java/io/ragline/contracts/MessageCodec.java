package io.ragline.contracts;

/**
 * Encodes and decodes the values of one topic, validating both ways: {@link #decode} refuses
 * what the topic's JSON Schema refuses (and names why), and {@link #encode} writes only what
 * {@link #decode} accepts. The key is part of the contract: decoding checks it against the value.
 */
public interface MessageCodec<T> {
    Topic topic();

    /**
     * @param key the record's key as UTF-8 text, or null when it has none
     * @param value the record's value, or null for a tombstone
     */
    T decode(String key, byte[] value) throws InvalidMessageException;

    /** The Kafka key a message is written under. */
    String key(T message);

    /** The value as JSON text. */
    String encode(T message);
}
