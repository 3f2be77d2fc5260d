package io.ragline.core.collections;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * An embedding generation of a collection ({@code collection_generations}, V25): the model whose
 * vectors it holds, and the chunking ({@link Chunking}, V34) of the chunks they are of. Every generation that exists is live: the embedding-worker writes its vectors
 * for every document version (a kept one too, so a rollback finds it complete) until it is pruned.
 */
public record Generation(
        int collectionId,
        int number,
        String provider,
        String model,
        int dimensions,
        GenerationState state,
        int chunking) {

    private static final String SELECT = "select collection_id, generation, embedding_provider, embedding_model,"
            + " dimensions, state, chunking from collection_generations";

    /** A generation of chunking 1 (a collection's first, as every generation made before V34 is). */
    public Generation(
            int collectionId, int number, String provider, String model, int dimensions, GenerationState state) {
        this(collectionId, number, provider, model, dimensions, state, 1);
    }

    /** Every generation of collection {@code collectionId}, oldest first. */
    public static List<Generation> of(Connection c, int collectionId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(SELECT + " where collection_id = ? order by generation")) {
            s.setInt(1, collectionId);
            return read(s);
        }
    }

    /**
     * Every generation of the collections {@code collectionIds} as they are now, each row locked
     * {@code FOR KEY SHARE} until the transaction ends: the embedding-worker reads them so at write
     * time, so that a prune (which deletes the row) waits for the write, a switch (which locks the
     * rows {@code FOR UPDATE} before its last count) counts the write or is seen by it, and a
     * generation made after the chunks were read is known.
     */
    public static List<Generation> lockedForWrite(Connection c, java.util.Collection<Integer> collectionIds)
            throws SQLException {
        if (collectionIds.isEmpty()) {
            return List.of();
        }
        try (PreparedStatement s = c.prepareStatement(
                SELECT + " where collection_id = any(?) order by collection_id, generation for key share")) {
            s.setArray(1, c.createArrayOf("integer", collectionIds.toArray()));
            return read(s);
        }
    }

    /** Every generation of every collection, by collection and number. */
    public static List<Generation> all(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(SELECT + " order by collection_id, generation")) {
            return read(s);
        }
    }

    private static List<Generation> read(PreparedStatement s) throws SQLException {
        List<Generation> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.add(new Generation(
                        rs.getInt(1),
                        rs.getInt(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getInt(5),
                        GenerationState.fromStored(rs.getString(6)),
                        rs.getInt(7)));
            }
        }
        return out;
    }
}
