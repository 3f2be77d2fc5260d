package io.ragline.contracts.status;

import java.util.EnumSet;
import java.util.Set;

/**
 * {@code documents.status}. A row is {@code received} only as the column's default: ingest-worker
 * inserts it {@code chunked} (an upsert) or {@code deleted} (a delete of an unknown document).
 * Chunking a new version makes any row {@code chunked} again; embedding-worker moves a {@code
 * chunked} one to {@code embedded} or {@code failed}; a delete makes any row {@code deleted} (the
 * row stays, so a stale upsert arriving later is recognised by its version).
 */
public enum DocumentStatus implements StoredStatus<DocumentStatus> {
    RECEIVED,
    CHUNKED,
    EMBEDDED,
    FAILED,
    DELETED;

    @Override
    public Set<DocumentStatus> next() {
        return switch (this) {
            case RECEIVED, EMBEDDED, FAILED, DELETED -> EnumSet.of(CHUNKED, DELETED);
            case CHUNKED -> EnumSet.of(CHUNKED, EMBEDDED, FAILED, DELETED);
        };
    }

    /** Nothing more happens to it until a new version or a delete arrives. */
    @Override
    public boolean isFinal() {
        return this == EMBEDDED || this == FAILED || this == DELETED;
    }

    /** The stored text, for logs and messages. */
    @Override
    public String toString() {
        return stored();
    }

    @Override
    public String kind() {
        return "document";
    }

    public static DocumentStatus fromStored(String text) {
        return StoredStatus.fromStored(DocumentStatus.class, text);
    }
}
