package io.ragline.dispatcher.outbox;

import java.time.Instant;
import java.util.Map;

/** One row of the outbox: a message to publish. A null payload is a tombstone. */
public record OutboxRow(
        long id, String topic, String key, String payload, Map<String, String> headers, Instant createdAt) {}
