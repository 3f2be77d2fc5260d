package io.ragline.contracts.conversation;

import java.time.OffsetDateTime;
import java.util.Locale;
import java.util.Map;

/**
 * One turn of a conversation, as the {@code conversations} topic carries it: which session it
 * belongs to, the producer's id of the message (a message is stored once per session and id, so a
 * redelivery changes nothing), who spoke, what was said. {@code session} gives the title, metadata
 * and memory collection of a session this message creates; a session that exists keeps its own.
 *
 * @param metadata never null (empty when the record had none)
 * @param createdAt when it was said; null for "when it is stored"
 * @param session null when the record has none
 */
public record ConversationMessage(
        String sessionId,
        String messageId,
        Role role,
        String content,
        Map<String, Object> metadata,
        OffsetDateTime createdAt,
        NewSession session) {

    public ConversationMessage {
        metadata = metadata == null ? Map.of() : metadata;
    }

    /** Who wrote a message: the roles of the chat format fine-tuning tools take. */
    public enum Role {
        SYSTEM,
        USER,
        ASSISTANT,
        TOOL;

        /** The role as JSON and SQL spell it. */
        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The role spelled {@code s}, or null when there is none. */
        public static Role of(String s) {
            for (Role r : values()) {
                if (r.json().equals(s)) {
                    return r;
                }
            }
            return null;
        }
    }

    /**
     * The title, metadata and memory collection of the session a message creates.
     *
     * @param metadata never null
     * @param collection the collection its messages are embedded into, to be searched by meaning;
     *     null for none
     */
    public record NewSession(String title, Map<String, Object> metadata, String collection) {
        public NewSession {
            metadata = metadata == null ? Map.of() : metadata;
        }
    }
}
