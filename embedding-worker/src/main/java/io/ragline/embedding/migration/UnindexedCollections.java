package io.ragline.embedding.migration;

import io.micrometer.core.instrument.MeterRegistry;
import io.ragline.core.collections.CollectionCatalog;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The collections searched by exact scans because their serving generation has vectors and no
 * vector index ({@link CollectionCatalog#unindexed}): an IVFFlat one before its first reindex, an
 * HNSW one created to be indexed after the load. {@value #GAUGE} is 1 for each while it lasts, and
 * the first time one is seen it is logged at INFO with what the schema owner runs. Asked at each
 * switch check ({@link MigrationSwitcher}); this worker's login may not build the index itself.
 */
final class UnindexedCollections {
    private static final Logger log = LoggerFactory.getLogger(UnindexedCollections.class);

    /** The gauge, per collection: 1 while its searches scan every vector for want of an index. */
    static final String GAUGE = "ragline.collection.unindexed";

    private final CollectionFlags flags;

    UnindexedCollections(MeterRegistry registry) {
        this.flags = new CollectionFlags(
                registry,
                GAUGE,
                "1 while a collection's serving generation has vectors and no vector index, so that its searches"
                        + " scan every vector (ragline collections reindex NAME builds it)");
    }

    /** Reads which collections lack their index now and sets the gauges: 1 for those, 0 for the others seen before. */
    void check(Connection c) throws SQLException {
        Set<String> now = CollectionCatalog.unindexed(c);
        for (String name : now) {
            if (flags.raise(name)) {
                log.info(
                        "collection '{}' has vectors but no vector index: its searches scan every vector exactly"
                                + " until `ragline collections reindex {}` (as the schema owner) builds it",
                        name,
                        name);
            }
        }
        for (String name : flags.raised()) {
            if (!now.contains(name)) {
                flags.lower(name);
            }
        }
    }
}
