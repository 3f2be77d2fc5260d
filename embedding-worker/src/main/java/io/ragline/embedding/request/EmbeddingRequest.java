package io.ragline.embedding.request;

/** A record of {@code embedding-requests} (contracts/embedding-requests.schema.json). */
public record EmbeddingRequest(String collection, String id, long document, long version) {}
