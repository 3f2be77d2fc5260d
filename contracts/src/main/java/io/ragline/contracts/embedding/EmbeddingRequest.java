package io.ragline.contracts.embedding;

/**
 * A record of {@code embedding-requests} (embedding-requests.schema.json): embed the chunks of
 * {@code version} of document {@code document} ({@code documents.id}), known to producers as
 * {@code collection/id}.
 */
public record EmbeddingRequest(String collection, String id, long document, long version) {
    /** The Kafka key: {@code collection/id}, as the document's own records. */
    public String key() {
        return collection + "/" + id;
    }
}
