package io.ragline.contracts.status;

import java.util.EnumSet;
import java.util.Set;

/**
 * {@code claude_events.status}. {@code received} when inserted or replayed; the routing consumer
 * moves it to {@code processed}, {@code ignored} (no rule matched) or {@code failed}, once per
 * generation. A replay ({@code replay_claude_event}) sets any row back to {@code received}. The
 * column also allows {@code published}, which nothing sets: the outbox row's removal by the
 * dispatcher marks publication.
 */
public enum ClaudeEventStatus implements StoredStatus<ClaudeEventStatus> {
    RECEIVED,
    PUBLISHED,
    PROCESSED,
    FAILED,
    IGNORED;

    @Override
    public Set<ClaudeEventStatus> next() {
        return switch (this) {
            case RECEIVED -> EnumSet.of(RECEIVED, PUBLISHED, PROCESSED, IGNORED, FAILED);
            case PUBLISHED -> EnumSet.of(RECEIVED, PROCESSED, IGNORED, FAILED);
            case PROCESSED, IGNORED, FAILED -> EnumSet.of(RECEIVED);
        };
    }

    /** Routed: a redelivery of its message changes nothing (only a replay does). */
    @Override
    public boolean isFinal() {
        return this == PROCESSED || this == IGNORED || this == FAILED;
    }

    /** The stored text, for logs and messages. */
    @Override
    public String toString() {
        return stored();
    }

    @Override
    public String kind() {
        return "claude_events";
    }

    public static ClaudeEventStatus fromStored(String text) {
        return StoredStatus.fromStored(ClaudeEventStatus.class, text);
    }
}
