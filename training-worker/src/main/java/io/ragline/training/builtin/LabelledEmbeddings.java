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
 * embeddings (its current version's) of one embedding generation, computed by pgvector's {@code
 * avg(vector)}: the serving one when a model is trained ({@code generation}, recorded with the
 * model), the model's own when it predicts, so a classifier keeps scoring vectors of the embedding
 * model it learned from after a migration switches the collection.
 */
public record LabelledEmbeddings(List<Long> documents, List<String> labels, List<float[]> features, int generation) {

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

    /** The examples of collection {@code collectionId}, from its serving generation's vectors. */
    public static LabelledEmbeddings load(Connection c, int collectionId, List<String> labelPath) throws SQLException {
        int generation;
        try (PreparedStatement s = c.prepareStatement("select serving_generation(?)")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                generation = rs.getInt(1); // a switch after this leaves it kept, with its vectors
            }
        }
        List<Long> ids = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        List<float[]> features = new ArrayList<>();
        Array path = c.createArrayOf("text", labelPath.toArray());
        try (PreparedStatement s = c.prepareStatement("select d.id, d.metadata #>> ? as label,"
                + " avg(e.embedding)::real[] from documents d join chunks ch on ch.document_id = d.id"
                + " join chunk_embeddings e on e.chunk_id = ch.id and e.generation = ?"
                + " where d.collection_id = ? and d.status ="
                + " 'embedded' and d.metadata #>> ? is not null group by d.id order by d.id")) {
            s.setArray(1, path);
            s.setInt(2, generation);
            s.setInt(3, collectionId);
            s.setArray(4, path);
            s.setFetchSize(500);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                    labels.add(rs.getString(2));
                    features.add(floats(rs.getArray(3)));
                }
            }
        }
        return new LabelledEmbeddings(ids, labels, features, generation);
    }

    /** The mean chunk embedding of generation {@code generation} of one document's current version, if any. */
    public static Optional<float[]> ofDocument(Connection c, long documentId, int generation) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select avg(e.embedding)::real[] from chunks ch"
                + " join chunk_embeddings e on e.chunk_id = ch.id and e.generation = ? where ch.document_id = ?")) {
            s.setInt(1, generation);
            s.setLong(2, documentId);
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
