package io.ragline.dispatcher.outbox;

import io.ragline.core.resilience.Backoff;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Topics, keys (and key-less rows) held back after a row of theirs was refused, until a deadline
 * on the {@link System#nanoTime()} clock. Holding the whole key keeps its order: nothing of the
 * key is published past the refused row. A key-less row has no order to keep, so only the row
 * waits. A fault of the topic (it does not exist, is invalid or forbidden) holds the whole topic.
 * Used by the relay's thread only.
 */
final class OutboxHolds {
    /** A held key or topic waits 1 s after its first attempt, doubling, at most a minute (with jitter). */
    private static final Backoff BACKOFF = Backoff.of(Duration.ofSeconds(1), Duration.ofMinutes(1));

    private final Map<String, Long> topics = new HashMap<>();
    private final Map<String, Long> keys = new HashMap<>();
    private final Map<Long, Long> ids = new HashMap<>();

    /** How long a row, key or topic is held after {@code attempts} refused attempts (0 counts as 1). */
    static Duration backoff(int attempts) {
        return BACKOFF.wait(Math.max(attempts, 1));
    }

    void hold(OutboxRow row, long untilNanos) {
        if (row.key() == null) {
            ids.put(row.id(), untilNanos);
        } else {
            keys.put(row.orderKey(), untilNanos);
        }
    }

    void release(OutboxRow row) {
        if (row.key() == null) {
            ids.remove(row.id());
        } else {
            keys.remove(row.orderKey());
        }
    }

    void holdTopic(String topic, long untilNanos) {
        topics.put(topic, untilNanos);
    }

    void releaseTopic(String topic) {
        topics.remove(topic);
    }

    /** Forgets every hold whose deadline passed. */
    void expire(long nowNanos) {
        topics.values().removeIf(until -> nowNanos - until >= 0);
        keys.values().removeIf(until -> nowNanos - until >= 0);
        ids.values().removeIf(until -> nowNanos - until >= 0);
    }

    Set<String> topics() {
        return topics.keySet();
    }

    Set<String> keys() {
        return keys.keySet();
    }

    Set<Long> ids() {
        return ids.keySet();
    }

    /** Whether nothing is held back now. */
    boolean isEmpty() {
        return topics().isEmpty() && keys().isEmpty() && ids().isEmpty();
    }

    void clear() {
        topics.clear();
        keys.clear();
        ids.clear();
    }
}
