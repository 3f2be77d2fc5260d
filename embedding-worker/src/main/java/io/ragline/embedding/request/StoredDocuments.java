package io.ragline.embedding.request;

import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.collections.Generation;
import io.ragline.core.collections.GenerationState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@link EmbeddingWriter} reads of the documents of a batch, in one statement: each
 * document's version, status and collection, and per generation of its collection the chunks of
 * its chunking (V34) that already have a vector of that generation's model and the texts of those that do not.
 */
final class StoredDocuments {
    private StoredDocuments() {}

    /**
     * A document as read: its version, status, collection, and per generation of its collection
     * (by number) its chunks.
     */
    record Stored(
            long version,
            DocumentStatus status,
            String collection,
            String collectionStatus,
            int collectionId,
            Map<Integer, Part> parts) {}

    /**
     * A document's chunks for one generation: the ids of those that have a vector of its model, the
     * ids and texts, in order, of those without one, and the ids among them whose vector of the
     * generation is of another model (replaced when the new is written).
     */
    record Part(Generation generation, List<Long> reused, List<Long> ids, List<String> texts, List<Long> stale) {}

    static Map<Long, Stored> load(Connection c, Set<Long> documents) throws SQLException {
        Map<Long, Stored> stored = new LinkedHashMap<>();
        // By document, not by version: content that came again unchanged keeps its chunks (and
        // their document_version) under the document's newer version, and an update keeps the
        // chunks whose text it cut again, with their vectors. Only the text of a chunk without a
        // vector of a generation's model is read: the others are not embedded again.
        try (PreparedStatement s = c.prepareStatement("select d.id, d.version, d.status, c.name, c.status, c.id,"
                + " g.generation, g.embedding_provider, g.embedding_model, g.dimensions, g.state, ch.id,"
                + " case when e.model is distinct from g.embedding_model then ch.content end,"
                + " e.model <> g.embedding_model, g.chunking from documents d join collections c on c.id ="
                + " d.collection_id join collection_generations g on g.collection_id = c.id left join chunks ch on"
                + " ch.document_id = d.id and ch.chunking = g.chunking left join chunk_embeddings e on e.chunk_id = ch.id and e.generation = g.generation"
                + " where d.id = any(?) order by d.id, g.generation, ch.seq")) {
            s.setArray(1, c.createArrayOf("bigint", documents.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    Stored d = stored.get(rs.getLong(1));
                    if (d == null) {
                        d = new Stored(
                                rs.getLong(2),
                                DocumentStatus.fromStored(rs.getString(3)),
                                rs.getString(4),
                                rs.getString(5),
                                rs.getInt(6),
                                new LinkedHashMap<>());
                        stored.put(rs.getLong(1), d);
                    }
                    int number = rs.getInt(7);
                    Part part = d.parts.get(number);
                    if (part == null) {
                        Generation g = new Generation(
                                d.collectionId,
                                number,
                                rs.getString(8),
                                rs.getString(9),
                                rs.getInt(10),
                                GenerationState.fromStored(rs.getString(11)),
                                rs.getInt(15));
                        part = new Part(g, new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
                        d.parts.put(number, part);
                    }
                    long chunk = rs.getLong(12);
                    if (rs.wasNull()) {
                        continue;
                    }
                    String text = rs.getString(13);
                    if (text == null) {
                        part.reused.add(chunk);
                    } else {
                        part.ids.add(chunk);
                        part.texts.add(text);
                        if (rs.getBoolean(14)) {
                            part.stale.add(chunk);
                        }
                    }
                }
            }
        }
        return stored;
    }
}
