package io.ragline.training;

import io.ragline.embeddings.EmbeddingProviders;
import io.ragline.embeddings.onnx.OnnxEmbeddingModel;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

/**
 * Puts a corpus into a collection as the pipeline would leave it: documents {@code embedded}, one
 * chunk each, embedded with the real all-MiniLM-L6-v2 ONNX model (in this JVM, to save the time
 * of running ingest and embedding workers). {@code labelKey} is the metadata key of the section.
 */
final class CorpusLoader {
    private CorpusLoader() {}

    static void createCollection(PostgresSchema db, String name) throws Exception {
        try (Connection c = db.connect();
                // the model load() embeds with
                PreparedStatement s = c.prepareStatement(
                        "insert into collections (name, embedding_model) values (?, 'all-MiniLM-L6-v2')")) {
            s.setString(1, name);
            s.executeUpdate();
        }
    }

    static void load(PostgresSchema db, String collection, List<PackageCorpus.Package> packages, String labelKey)
            throws Exception {
        List<float[]> vectors;
        try (OnnxEmbeddingModel model = EmbeddingProviders.onnx("all-MiniLM-L6-v2")) {
            List<String> texts = new ArrayList<>();
            packages.forEach(p -> texts.add(p.description()));
            vectors = model.embed(texts);
        }
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            int collectionId;
            try (PreparedStatement s = c.prepareStatement("select id from collections where name = ?")) {
                s.setString(1, collection);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    collectionId = rs.getInt(1);
                }
            }
            for (int i = 0; i < packages.size(); i++) {
                PackageCorpus.Package p = packages.get(i);
                long id;
                try (PreparedStatement s = c.prepareStatement(
                        "insert into documents (collection_id, external_id, title,"
                                + " metadata, version, status, chunk_count, chunked_at, embedded_at) values (?, ?, ?,"
                                + " jsonb_build_object(?::text, ?::text), 1, 'embedded', 1, now(), now()) returning id")) {
                    s.setInt(1, collectionId);
                    s.setString(2, p.name());
                    s.setString(3, p.name());
                    s.setString(4, labelKey);
                    s.setString(5, p.section());
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        id = rs.getLong(1);
                    }
                }
                try (PreparedStatement s = c.prepareStatement("with ch as (insert into chunks (document_id,"
                        + " collection_id, document_version, seq, content, token_count) values (?, ?, 1, 0, ?, 0)"
                        + " returning id, collection_id) insert into chunk_embeddings (chunk_id, collection_id,"
                        + " embedding, model) select id, collection_id, ?::vector, 'all-MiniLM-L6-v2' from ch")) {
                    s.setLong(1, id);
                    s.setInt(2, collectionId);
                    s.setString(3, p.description());
                    s.setString(4, java.util.Arrays.toString(vectors.get(i)));
                    s.executeUpdate();
                }
            }
            c.commit();
        }
    }
}
