package io.ragline.core.retention;

import java.time.Duration;
import java.util.Optional;

/**
 * What retention removes: each a target of the SQL function {@code retention_delete()} (migration
 * V21, whose comment gives each rule: what is kept, what a removal gives up) and a {@code
 * RAGLINE_RETENTION_*} variable with its default window ({@link Optional#empty()}: off).
 */
public enum RetentionTarget {
    /** Processed or ignored webhook events. */
    CLAUDE_EVENTS("claude_events", Optional.of(Duration.ofDays(30))),
    /** Finished training jobs, their metrics and never-deployed models. */
    TRAINING_JOBS("training_jobs", Optional.of(Duration.ofDays(90))),
    /** Deleted documents' rows with no chunk left. */
    DOCUMENT_TOMBSTONES("document_tombstones", Optional.of(Duration.ofDays(30))),
    /** Outbox rows Kafka refused, still waiting for an operator: off, an operator decides. */
    OUTBOX_DEAD_LETTERS("outbox_dead_letters", Optional.empty()),
    /** What operators (or retention) did with dead letters. */
    DEAD_LETTER_DISPOSITIONS("dead_letter_dispositions", Optional.of(Duration.ofDays(90))),
    /** The offsets of consumer groups that applied nothing within the window. */
    CONSUMER_OFFSETS("consumer_offsets", Optional.of(Duration.ofDays(30))),
    /**
     * Conversation sessions idle longer than the window, with their messages and memory documents:
     * off, conversation history is the user's to keep.
     */
    CONVERSATION_SESSIONS("conversation_sessions", Optional.empty());

    private final String sqlName;
    private final Optional<Duration> defaultWindow;

    RetentionTarget(String sqlName, Optional<Duration> defaultWindow) {
        this.sqlName = sqlName;
        this.defaultWindow = defaultWindow;
    }

    /** Its name in {@code retention_delete()} and in the metrics' {@code target} tag. */
    public String sqlName() {
        return sqlName;
    }

    /** {@code RAGLINE_RETENTION_CLAUDE_EVENTS} and so on. */
    public String variable() {
        return "RAGLINE_RETENTION_" + name();
    }

    public Optional<Duration> defaultWindow() {
        return defaultWindow;
    }
}
