package io.ragline.benchmarks.filtered;

import com.pgvector.PGvector;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The two ways the benchmark asks for the nearest chunks, each answering {@link
 * SyntheticCollection#key}s, best first: as users search ({@code search_documents}, vector mode,
 * one row per chunk), and exactly (every vector of the collection compared, the same cosine
 * distance on the stored full-precision column, which no vector index can serve: the indexes are on
 * the cast {@code embedding::vector(384)} or {@code ::halfvec(384)}).
 */
public final class ChunkSearch {
    private static final String SEARCH = "select document_id, seq from search_documents(?::public.vector, ?, ?,"
            + " ?::jsonb, mode => 'vector', group_by_document => false)";

    /**
     * The exact ranking: the cosine distance on the stored column {@code embedding} (no cast, so
     * no vector index matches the expression and every vector of the collection is compared), the
     * nearest first, then their keys; {@code %s} takes the filter's restriction.
     */
    private static final String EXACT = "select d.external_id, ch.seq from (select e.chunk_id, e.embedding"
            + " OPERATOR(public.<=>) ?::public.vector as dist from chunk_embeddings e where e.collection_id = ? %s"
            + " order by dist, e.chunk_id limit ?) x join chunks ch on ch.id = x.chunk_id join documents d on d.id ="
            + " ch.document_id order by x.dist, x.chunk_id";

    /**
     * The chunks of live documents the filter keeps (the metadata index finds them). Without a
     * filter there is no restriction: the benchmark deletes no document.
     */
    private static final String WITHIN_FILTER = "and e.chunk_id in (select ch.id from chunks ch join documents d on"
            + " d.id = ch.document_id where d.status <> 'deleted' and d.metadata @> ?::jsonb)";

    private ChunkSearch() {}

    /**
     * {@code search_documents}' {@code k} best chunks of {@code collection} for {@code query}
     * within {@code filterJson}, on {@code c} in autocommit (one statement, one transaction: the
     * settings the function makes for its scan end with it).
     */
    public static List<String> search(Connection c, String collection, float[] query, int k, String filterJson)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement(SEARCH)) {
            s.setObject(1, new PGvector(query));
            s.setInt(2, k);
            s.setString(3, collection);
            s.setString(4, filterJson);
            return keys(s);
        }
    }

    /**
     * The exact {@code k} nearest chunks of collection {@code collectionId} within {@code
     * filterJson} (containment only: the benchmark's filters are one key's value).
     */
    public static List<String> exact(Connection c, int collectionId, float[] query, int k, String filterJson)
            throws SQLException {
        boolean filtered = !filterJson.replaceAll("\\s", "").equals("{}");
        try (PreparedStatement s = c.prepareStatement(String.format(EXACT, filtered ? WITHIN_FILTER : ""))) {
            int p = 1;
            s.setObject(p++, new PGvector(query));
            s.setInt(p++, collectionId);
            if (filtered) {
                s.setString(p++, filterJson);
            }
            s.setInt(p, k);
            return keys(s);
        }
    }

    /**
     * The scans of {@code index} that {@code searches} started, counted in one transaction on
     * {@code c} ({@code pg_stat_get_xact_numscans}: this transaction's own counts, no waiting for
     * the statistics to be flushed). Leaves {@code c} in autocommit.
     */
    public static long indexScans(Connection c, String index, SqlAction searches) throws SQLException {
        c.setAutoCommit(false);
        try {
            searches.run();
            try (PreparedStatement s = c.prepareStatement("select pg_stat_get_xact_numscans(to_regclass(?))")) {
                s.setString(1, index);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    /** Statements run for {@link #indexScans}. */
    @FunctionalInterface
    public interface SqlAction {
        void run() throws SQLException;
    }

    /**
     * recall@k: the share of {@code exact} (the true {@code k} nearest) among {@code found}'s first
     * {@code k}; 1 when there is nothing to find.
     */
    public static double recall(List<String> found, List<String> exact) {
        if (exact.isEmpty()) {
            return 1;
        }
        List<String> top = found.subList(0, Math.min(found.size(), exact.size()));
        return top.stream().filter(exact::contains).distinct().count() / (double) exact.size();
    }

    private static List<String> keys(PreparedStatement s) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.add(SyntheticCollection.key(rs.getString(1), rs.getInt(2)));
            }
        }
        return out;
    }
}
