package io.ragline.contracts.status;

import java.util.EnumSet;
import java.util.Set;

/**
 * {@code collections.status}. {@code active}: documents are chunked and embedded. {@code paused}:
 * the ingest-worker still stores and chunks the collection's documents, the embedding-worker skips
 * their requests (they stay {@code chunked}); resuming asks again for the embeddings of every
 * {@code chunked} document in the transaction that sets it {@code active}. {@code failed} and
 * {@code deleting} are allowed by the column for an operator's SQL; no Ragline code sets them, and
 * the embedding-worker loads no model for them at start-up. A {@code deleting} collection changes
 * no more: it is on its way out.
 */
public enum CollectionStatus implements StoredStatus<CollectionStatus> {
    ACTIVE,
    PAUSED,
    FAILED,
    DELETING;

    @Override
    public Set<CollectionStatus> next() {
        return switch (this) {
            case ACTIVE -> EnumSet.of(PAUSED, FAILED, DELETING);
            case PAUSED -> EnumSet.of(ACTIVE, FAILED, DELETING);
            case FAILED -> EnumSet.of(ACTIVE, PAUSED, DELETING);
            case DELETING -> EnumSet.noneOf(CollectionStatus.class);
        };
    }

    @Override
    public boolean isFinal() {
        return this == DELETING;
    }

    @Override
    public String toString() {
        return stored();
    }

    @Override
    public String kind() {
        return "collection";
    }

    public static CollectionStatus fromStored(String text) {
        return StoredStatus.fromStored(CollectionStatus.class, text);
    }
}
