package io.ragline.dispatcher.outbox;

import java.time.Instant;
import java.util.Map;

/**
 * One row of the outbox: a message to publish. A null payload is a tombstone. {@code
 * insertedNanos} is the insert moment on this JVM's {@link System#nanoTime()} clock (the row's
 * age as the database measured it, subtracted from the moment it was read), so latency never
 * mixes the database's clock with the JVM's.
 */
public record OutboxRow(
        long id,
        String topic,
        String key,
        String payload,
        Map<String, String> headers,
        Instant createdAt,
        int attempts,
        long insertedNanos) {

    /** Topic and key: the unit whose order the dispatcher keeps. */
    public String orderKey() {
        return topic + '\u0000' + key;
    }
}
