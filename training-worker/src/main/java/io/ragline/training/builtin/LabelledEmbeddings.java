package io.ragline.training.builtin;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The builtin trainer's data: one example per embedded document of a collection that has a label
 * at {@code label_path} in its metadata. The features are the mean of the document's chunk
 * embeddings (its current version's), computed by pgvector's {@code avg(vector)}.
 */
public record LabelledEmbeddings(List<Long> documents, List<String> labels, List<float[]> features) {

    /** A collection's id and dimensions, if it exists. */
    public record CollectionRef(int id, int dimensions) {}

    public static Optional<CollectionRef> collection(Connection c, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select id, dimensions from collections where name = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(new CollectionRef(rs.getInt(1), rs.getInt(2))) : Optional.empty();
            }
        }
    }

    public static LabelledEmbeddings load(Connection c, int collectionId, List<String> labelPath) throws SQLException {
        List<Long> ids = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        List<float[]> features = new ArrayList<>();
        Array path = c.createArrayOf("text", labelPath.toArray());
        try (PreparedStatement s = c.prepareStatement("select d.id, d.metadata #>> ? as label,"
                + " avg(e.embedding)::real[] from documents d join chunks ch on ch.document_id = d.id"
                + " join chunk_embeddings e on e.chunk_id = ch.id and e.generation = serving_generation(d.collection_id)"
                + " where d.collection_id = ? and d.status ="
                + " 'embedded' and d.metadata #>> ? is not null group by d.id order by d.id")) {
            s.setArray(1, path);
            s.setInt(2, collectionId);
            s.setArray(3, path);
            s.setFetchSize(500);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                    labels.add(rs.getString(2));
                    features.add(floats(rs.getArray(3)));
                }
            }
        }
        return new LabelledEmbeddings(ids, labels, features);
    }

    /** The mean chunk embedding of one document's current version, if it has any. */
    public static Optional<float[]> ofDocument(Connection c, long documentId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select avg(e.embedding)::real[] from chunks ch"
                + " join chunk_embeddings e on e.chunk_id = ch.id and e.generation ="
                + " serving_generation(ch.collection_id) where ch.document_id = ?")) {
            s.setLong(1, documentId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && rs.getArray(1) != null ? Optional.of(floats(rs.getArray(1))) : Optional.empty();
            }
        }
    }

    static float[] floats(Array array) throws SQLException {
        Object[] values = (Object[]) array.getArray();
        float[] f = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            f[i] = ((Number) values[i]).floatValue();
        }
        return f;
    }
}
