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

    /** {@link #AFTER_LOAD} when {@code afterLoad}, else {@link #AT_ONCE}: the CLI's flag, the API's field. */
    public static IndexBuild of(boolean afterLoad) {
        return afterLoad ? AFTER_LOAD : AT_ONCE;
    }

    /**
     * Tells the database, for the rest of {@code c}'s transaction, whether to leave new vector
     * indexes out. {@link #AT_ONCE} sets it off, so that an earlier {@link #AFTER_LOAD} in the same
     * transaction does not carry over; under autocommit it has nothing to undo and sets nothing.
     * The database refuses {@link #AFTER_LOAD} to a login that may not build the index later.
     *
     * @throws IllegalStateException for {@link #AFTER_LOAD} when {@code c} commits each statement:
     *     the setting would end with the statement that makes it
     */
    void apply(Connection c) throws SQLException {
        if (c.getAutoCommit()) {
            if (this == AFTER_LOAD) {
                throw new IllegalStateException(
                        "an index after the load needs a transaction: the setting is local to it");
            }
            return;
        }
        try (PreparedStatement s = c.prepareStatement("select set_config('" + SETTING + "', ?, true)")) {
            s.setString(1, this == AFTER_LOAD ? "on" : "off");
            s.execute();
        }
    }
}
