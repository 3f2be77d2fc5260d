package io.ragline.core.collections;

import io.ragline.contracts.status.DocumentStatus;
import java.time.Instant;
import java.util.Map;

/**
 * A collection as an operator sees it: its settings and status, its documents counted by status
 * (every status present, zero included), and its last error (the collection's own, else the
 * error of its most recently failed document; null when there is none), and whether its vector
 * index is built (an IVFFlat one, and an HNSW one created to be built after the load, are built
 * by a reindex once the collection has vectors; until then its searches are exact scans), and its
 * running migration's progress (null when none runs; its model is {@code collection().model()}, of generation {@code collection().generation()}).
 */
public record CollectionSummary(
        Collection collection,
        Map<DocumentStatus, Long> counts,
        String lastError,
        Instant createdAt,
        Instant updatedAt,
        boolean indexBuilt,
        CollectionMigrations.Progress migration) {

    public CollectionSummary {
        counts = Map.copyOf(counts);
    }

    /** This summary with the migration running. */
    public CollectionSummary migrating(CollectionMigrations.Progress progress) {
        return new CollectionSummary(collection, counts, lastError, createdAt, updatedAt, indexBuilt, progress);
    }
}
