package io.ragline.training.predict;

import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.training.TrainingMetrics;
import io.ragline.training.builtin.ClassifierModel;
import io.ragline.training.builtin.LabelledEmbeddings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Labels newly embedded documents with the deployed builtin models of their collection (one per
 * project): for each {@code document.embedded} event whose version is still the document's, the
 * mean of its chunk embeddings of the generation each model was trained on (a kept one after a
 * migration switched the collection: the model scores vectors of the embedding model it learned
 * from) goes through each model, and the most probable label and its
 * probability are upserted into {@code document_predictions} in the consumer's transaction.
 * Artifacts are cached by model id (a model's artifact never changes).
 */
public final class PredictionWriter implements BatchWriter<EmbeddedDocument> {
    private final Map<Long, ClassifierModel> models = new ConcurrentHashMap<>();
    private final TrainingMetrics metrics;

    public PredictionWriter(TrainingMetrics metrics) {
        this.metrics = metrics;
    }

    /**
     * A deployed model: the embedding generation it was trained on (the serving one for a model
     * recorded without one), and whether that generation still exists with the model it was
     * trained on (after {@code collections prune --force} it does not: the model predicts nothing).
     */
    private record Deployed(long id, String project, int generation, boolean live) {}

    @Override
    public void write(List<InboundRecord<EmbeddedDocument>> records, Connection c) throws Exception {
        int labelled = 0;
        for (InboundRecord<EmbeddedDocument> r : records) {
            EmbeddedDocument e = r.value();
            if (e == EmbeddedDocument.IGNORED) {
                continue;
            }
            Optional<long[]> doc = document(c, e);
            if (doc.isEmpty()) {
                continue; // unknown, deleted, or a newer version on its way (which gets its own event)
            }
            List<Deployed> deployed = deployed(c, (int) doc.get()[1]);
            if (deployed.isEmpty()) {
                continue;
            }
            Map<Integer, Optional<float[]>> byGeneration = new HashMap<>();
            for (Deployed d : deployed) {
                if (!d.live()) {
                    continue; // its generation was pruned with --force: no vectors of its model to score
                }
                Optional<float[]> features = byGeneration.get(d.generation());
                if (features == null) {
                    features = LabelledEmbeddings.ofDocument(c, doc.get()[0], d.generation());
                    byGeneration.put(d.generation(), features);
                }
                if (features.isEmpty()) {
                    continue;
                }
                ClassifierModel model = model(c, d.id());
                if (model.dimensions() != features.get().length) {
                    continue;
                }
                double[] p = model.probabilities(features.get());
                int best = 0;
                for (int k = 1; k < p.length; k++) {
                    best = p[k] > p[best] ? k : best;
                }
                upsert(c, doc.get()[0], d, e.version(), model.labels().get(best), p[best]);
                labelled++;
            }
        }
        metrics.predicted(labelled);
    }

    /** [documents.id, collection_id] when the document exists at this version and is embedded. */
    private static Optional<long[]> document(Connection c, EmbeddedDocument e) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select d.id, d.collection_id from documents d join collections"
                + " c on c.id = d.collection_id where c.name = ? and d.external_id = ? and d.version = ? and d.status ="
                + " 'embedded'")) {
            s.setString(1, e.collection());
            s.setString(2, e.id());
            s.setLong(3, e.version());
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(new long[] {rs.getLong(1), rs.getLong(2)}) : Optional.empty();
            }
        }
    }

    private static List<Deployed> deployed(Connection c, int collectionId) throws SQLException {
        List<Deployed> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("select m.id, m.project, coalesce(m.embedding_generation,"
                + " serving_generation(m.collection_id)), m.embedding_generation is null or exists (select 1 from"
                + " collection_generations g where g.collection_id = m.collection_id and g.generation ="
                + " m.embedding_generation and g.embedding_model = m.embedding_model) from models m where m.deployed"
                + " and m.backend = 'builtin' and m.collection_id = ? and m.artifact is not null")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(new Deployed(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getBoolean(4)));
                }
            }
        }
        return out;
    }

    private ClassifierModel model(Connection c, long id) throws SQLException {
        ClassifierModel cached = models.get(id);
        if (cached != null) {
            return cached;
        }
        try (PreparedStatement s = c.prepareStatement("select artifact from models where id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                ClassifierModel m = ClassifierModel.fromBytes(rs.getBytes(1));
                models.put(id, m);
                return m;
            }
        }
    }

    private static void upsert(Connection c, long document, Deployed d, long version, String label, double p)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("insert into document_predictions (document_id, project,"
                + " model_id, document_version, label, confidence) values (?, ?, ?, ?, ?, ?) on conflict (document_id,"
                + " project) do update set model_id = excluded.model_id, document_version = excluded.document_version,"
                + " label = excluded.label, confidence = excluded.confidence, predicted_at = now()")) {
            s.setLong(1, document);
            s.setString(2, d.project());
            s.setLong(3, d.id());
            s.setLong(4, version);
            s.setString(5, label);
            s.setDouble(6, Math.min(1, Math.max(0, p)));
            s.executeUpdate();
        }
    }
}
