package io.ragline.core.collections;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * When a new generation's vector index is built: {@link #AT_ONCE}, empty, so that every vector goes
 * into it as it is written; or {@link #AFTER_LOAD}, once, over the vectors loaded, by the schema
 * owner's {@code ragline collections reindex NAME} ({@link CollectionRegistry#reindex}). pgvector's
 * HNSW inserts took 6-8 % of this project's 2-core machine during a bulk load, and one build after
 * it cost 4.3-5.4 times less CPU than those inserts (docs/benchmarks.md). Until it is built the
 * generation is searched by exact scans, and a migration's switch waits for it (V37). An IVFFlat
 * index is always built after the load (its lists are trained on the vectors), so for one the two
 * are the same. The one home of the transaction setting the database reads.
 */
public enum IndexBuild {
    AT_ONCE,
    AFTER_LOAD;

    /** The transaction-local setting V37's {@code index_after_load()} reads. */
    static final String SETTING = "ragline.index_after_load";

    /**
     * Tells the database, for the rest of {@code c}'s transaction, to leave new vector indexes out
     * ({@link #AFTER_LOAD}); nothing for {@link #AT_ONCE}.
     *
     * @throws IllegalStateException when {@code c} commits each statement: the setting would end
     *     with the statement that makes it
     */
    void apply(Connection c) throws SQLException {
        if (this != AFTER_LOAD) {
            return;
        }
        if (c.getAutoCommit()) {
            throw new IllegalStateException("an index after the load needs a transaction: the setting is local to it");
        }
        try (PreparedStatement s = c.prepareStatement("select set_config('" + SETTING + "', 'on', true)")) {
            s.execute();
        }
    }
}
