package io.ragline.core.collections;

import io.ragline.contracts.status.DocumentStatus;
import java.time.Instant;
import java.util.Map;

/**
 * A collection as an operator sees it: its settings and status, its documents counted by status
 * (every status present, zero included), and its last error (the collection's own, else the
 * error of its most recently failed document; null when there is none), and whether its vector
 * index is built (an IVFFlat one is built by a reindex once the collection has vectors; until then
 * its searches are exact scans).
 */
public record CollectionSummary(
        Collection collection,
        Map<DocumentStatus, Long> counts,
        String lastError,
        Instant createdAt,
        Instant updatedAt,
        boolean indexBuilt) {

    public CollectionSummary {
        counts = Map.copyOf(counts);
    }
}
