package io.ragline.embedding.request;

import io.micrometer.core.instrument.Timer;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.pipeline.DocumentEvent;
import io.ragline.contracts.pipeline.PipelineEvent;
import io.ragline.contracts.pipeline.PipelineEventCodec;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.collections.Collection;
import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.core.outbox.Outbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A batch whose vectors {@link EmbeddingWriter} computed with no connection held, applied in the
 * consumer's short transaction: it locks the documents again and checks each is still as it was
 * read (the same version, not deleted, not embedded meanwhile, its collection not paused nor
 * dropped). A document that changed makes its outcome obsolete: its vectors (or its failure) are
 * dropped and counted, and the newer version's own request embeds it. The others get their
 * vectors (one binary {@code COPY} for the whole batch), their status and their {@code
 * document.embedded} or {@code document.failed} in the outbox.
 *
 * <p>Why a version still current means the chunks read are still the document's: every path that
 * deletes or replaces a document's chunks takes the document's row lock and changes its version
 * or its status in the same transaction.
 */
final class EmbeddedBatch implements BatchWriter<EmbeddingRequest> {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedBatch.class);
    private static final PipelineEventCodec EVENTS = new PipelineEventCodec();

    /**
     * A request still current when its chunks were read: its collection, its number of chunks, the
     * ids and texts of those to embed (the chunks without a vector of the collection's model), and
     * the ids among them that have a vector of another model, deleted before the new is written.
     */
    record Job(
            InboundRecord<EmbeddingRequest> record,
            Collection collection,
            int chunks,
            List<Long> ids,
            List<String> texts,
            List<Long> stale) {
        EmbeddingRequest request() {
            return record.value();
        }
    }

    /** What became of a job: its vectors and the model that made them, or why it failed. */
    record Outcome(Job job, List<float[]> vectors, String model, String error) {
        static Outcome embedded(Job job, List<float[]> vectors, String model) {
            return new Outcome(job, vectors, model, null);
        }

        static Outcome failed(Job job, String error) {
            return new Outcome(job, null, null, error);
        }
    }

    private final List<Outcome> outcomes;
    private final EmbeddingMetrics metrics;

    EmbeddedBatch(List<Outcome> outcomes, EmbeddingMetrics metrics) {
        this.outcomes = outcomes;
        this.metrics = metrics;
    }

    @Override
    public void write(List<InboundRecord<EmbeddingRequest>> records, Connection c) throws Exception {
        Set<InboundRecord<EmbeddingRequest>> fresh = Collections.newSetFromMap(new IdentityHashMap<>());
        fresh.addAll(records); // the sink leaves out records whose offsets are stored already
        List<Outcome> mine = new ArrayList<>();
        for (Outcome o : outcomes) {
            if (fresh.contains(o.job.record)) {
                mine.add(o);
            }
        }
        Set<Long> current = lockCurrent(c, mine);
        List<VectorWriter.Rows> rows = new ArrayList<>();
        List<Long> stale = new ArrayList<>();
        for (Outcome o : mine) {
            Job job = o.job;
            if (!current.contains(job.request().document())) {
                continue;
            }
            if (o.error != null) {
                log.info(
                        "document {}/{} version {} failed: {}",
                        job.collection.name(),
                        job.request().id(),
                        job.request().version(),
                        o.error);
                finish(c, job, DocumentStatus.FAILED, o.error, null);
                metrics.failed.increment();
                continue;
            }
            rows.add(new VectorWriter.Rows(job.collection.id(), job.ids, o.vectors, o.model));
            stale.addAll(job.stale);
            finish(c, job, DocumentStatus.EMBEDDED, null, o.model);
            metrics.chunks.increment(job.ids.size());
            metrics.embedded.increment();
        }
        if (!stale.isEmpty()) { // vectors of the collection's former model
            try (PreparedStatement s = c.prepareStatement("delete from chunk_embeddings where chunk_id = any(?)")) {
                s.setArray(1, c.createArrayOf("bigint", stale.toArray()));
                s.executeUpdate();
            }
        }
        Timer.Sample copy = Timer.start();
        VectorWriter.write(c, rows); // one COPY for the whole batch
        copy.stop(metrics.vectorWrite);
    }

    /**
     * Locks the documents of {@code outcomes} (in id order, one statement) and returns those still
     * as they were read; counts the others by why they are not.
     */
    private Set<Long> lockCurrent(Connection c, List<Outcome> outcomes) throws SQLException {
        Map<Long, Job> jobs = new LinkedHashMap<>();
        outcomes.forEach(o -> jobs.put(o.job.request().document(), o.job));
        Set<Long> current = new HashSet<>();
        if (jobs.isEmpty()) {
            return current;
        }
        Set<Long> seen = new HashSet<>();
        try (PreparedStatement s = c.prepareStatement("select d.id, d.version, d.status, c.status, d.collection_id"
                + " from documents d join collections c on c.id = d.collection_id where d.id = any(?)"
                + " order by d.id for update of d")) {
            s.setArray(1, c.createArrayOf("bigint", jobs.keySet().toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    Job job = jobs.get(rs.getLong(1));
                    seen.add(rs.getLong(1));
                    DocumentStatus status = DocumentStatus.fromStored(rs.getString(3));
                    if (rs.getLong(2) != job.request().version()
                            || status == DocumentStatus.DELETED
                            || rs.getInt(5) != job.collection.id()) {
                        log.debug(
                                "document {}/{} changed while version {} was embedded: its vectors are dropped",
                                job.collection.name(),
                                job.request().id(),
                                job.request().version());
                        metrics.obsolete.increment();
                    } else if (status == DocumentStatus.EMBEDDED) {
                        metrics.duplicate.increment(); // another consumer embedded it meanwhile
                    } else if (rs.getString(4).equals("paused")) {
                        metrics.paused.increment(); // stays 'chunked'; the resume asks again
                    } else {
                        current.add(rs.getLong(1));
                    }
                }
            }
        }
        metrics.obsolete.increment(jobs.size() - seen.size()); // gone with their collection
        return current;
    }

    /**
     * Marks the document {@code status} (from {@code chunked}, checked) and writes its {@code
     * document.embedded} or {@code document.failed} to the outbox, in the batch's transaction.
     */
    private static void finish(Connection c, Job job, DocumentStatus status, String error, String model)
            throws SQLException {
        DocumentStatus.CHUNKED.moveTo(status);
        try (PreparedStatement s = c.prepareStatement("update documents set status = ?, error = ?, embedded_at ="
                + " case when ? then now() end, updated_at = now() where id = ?")) {
            s.setString(1, status.stored());
            s.setString(2, error);
            s.setBoolean(3, status == DocumentStatus.EMBEDDED);
            s.setLong(4, job.request().document());
            s.executeUpdate();
        }
        PipelineEvent.Type type = status == DocumentStatus.EMBEDDED
                ? PipelineEvent.Type.DOCUMENT_EMBEDDED
                : PipelineEvent.Type.DOCUMENT_FAILED;
        Outbox.append(
                c,
                EVENTS,
                new DocumentEvent(
                        type,
                        job.collection.name(),
                        job.request().id(),
                        job.request().version(),
                        job.chunks,
                        model,
                        error == null ? null : PipelineEventCodec.error(error)));
    }
}
