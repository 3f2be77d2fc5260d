package io.ragline.contracts.document;

import java.util.Map;

/**
 * A validated record of the {@code documents} topic (documents.schema.json). {@code version} is
 * null when the producer gave none; {@code content} is null for a delete.
 */
public record DocumentMessage(
        Op op,
        String collection,
        String id,
        String title,
        String content,
        String source,
        Map<String, Object> metadata,
        Long version) {

    public enum Op {
        UPSERT,
        DELETE;

        /** As the contract spells it. */
        public String json() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The Kafka key this document's records carry: {@code collection/id}. */
    public String key() {
        return collection + "/" + id;
    }
}
