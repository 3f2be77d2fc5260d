package io.ragline.core.collections;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * A chunking of a collection ({@code collection_chunkings}, V34): the chunk size and overlap the
 * chunks of one or more of its generations are cut with. Generations that share a chunking share
 * their chunks; {@code chunks.chunking} says whose a chunk is. Numbered as the generation that first
 * used it (generation numbers are never taken twice). {@code serving}: the serving generation's.
 */
public record Chunking(int number, int sizeTokens, int overlapTokens, boolean serving) {

    /**
     * The chunkings of collection {@code collectionId}'s generations as they are in this transaction,
     * the serving one first: every document the ingest-worker writes is cut with each of them.
     */
    public static List<Chunking> live(Connection c, int collectionId) throws SQLException {
        List<Chunking> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("select k.chunking, k.chunk_size_tokens,"
                + " k.chunk_overlap_tokens, bool_or(g.state = 'serving') from collection_chunkings k join"
                + " collection_generations g on g.collection_id = k.collection_id and g.chunking = k.chunking"
                + " where k.collection_id = ? group by k.chunking, k.chunk_size_tokens, k.chunk_overlap_tokens"
                + " order by 4 desc, 1")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(new Chunking(rs.getInt(1), rs.getInt(2), rs.getInt(3), rs.getBoolean(4)));
                }
            }
        }
        return out;
    }

    /** Whether this chunking cuts as {@code collection}'s own settings do. */
    public boolean sameAs(int size, int overlap) {
        return sizeTokens == size && overlapTokens == overlap;
    }
}
