package io.ragline.embedding.request;

import io.micrometer.core.instrument.Timer;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.contracts.pipeline.DocumentEvent;
import io.ragline.contracts.pipeline.PipelineEvent;
import io.ragline.contracts.pipeline.PipelineEventCodec;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.Generation;
import io.ragline.core.collections.GenerationState;
import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.core.outbox.Outbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
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
    private static final EmbeddingRequestCodec REQUESTS = new EmbeddingRequestCodec();

    /**
     * A request still current when its chunks were read, for one embedding generation: its
     * collection as that generation embeds it ({@link Collection#as}), the generations of the
     * collection when the chunks were read (number to model: one made later is asked for again at
     * write time), whether the generation was the serving one when they were read, whether the
     * document was {@code embedded} already (a migration's backfill: vectors only, no status change, no event), its
     * number of chunks, the ids and texts of those to embed (the chunks without a vector of the
     * generation), and the ids among them that have a vector of another model, deleted before the
     * new is written.
     */
    record Job(
            InboundRecord<EmbeddingRequest> record,
            Collection collection,
            Map<Integer, String> read,
            boolean servingWhenRead,
            boolean backfill,
            int chunks,
            List<Long> ids,
            List<String> texts,
            List<Long> stale) {
        EmbeddingRequest request() {
            return record.value();
        }

        int generation() {
            return collection.generation();
        }
    }

    /**
     * What became of a job: its vectors and the model that made them, or why it failed; {@code owed}
     * when the failure is one a retry or an operator may mend (the model unavailable, or refusing
     * this worker; its provider not creatable here) of a generation that was not serving: nothing is written of it and the migration's sweep asks for
     * it again, where a refusal of the input is recorded for good.
     */
    record Outcome(Job job, List<float[]> vectors, String model, String error, boolean owed) {
        static Outcome embedded(Job job, List<float[]> vectors, String model) {
            return new Outcome(job, vectors, model, null, false);
        }

        static Outcome failed(Job job, String error) {
            return new Outcome(job, null, null, error, false);
        }

        static Outcome owed(Job job, String error) {
            return new Outcome(job, null, null, error, true);
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
        Map<Long, List<Outcome>> byDocument = new LinkedHashMap<>();
        for (Outcome o : outcomes) {
            if (fresh.contains(o.job.record)) {
                byDocument
                        .computeIfAbsent(o.job.request().document(), d -> new ArrayList<>())
                        .add(o);
            }
        }
        Set<Long> current = lockCurrent(c, byDocument);
        Map<Integer, List<Generation>> live = lockGenerations(c, byDocument);
        List<VectorWriter.Rows> rows = new ArrayList<>();
        List<Outcome> written = new ArrayList<>();
        for (Map.Entry<Long, List<Outcome>> e : byDocument.entrySet()) {
            if (current.contains(e.getKey())) {
                apply(
                        c,
                        e.getValue(),
                        live.getOrDefault(e.getValue().get(0).job.collection.id(), List.of()),
                        written);
            }
        }
        deleteStale(c, written);
        for (Outcome o : written) {
            List<Long> ids = o.job.ids;
            List<float[]> vectors = o.vectors;
            if (o.job.backfill) { // under the document's lock: a backfill delivered twice writes nothing twice
                Set<Long> have = existing(c, o.job.generation(), ids);
                List<Long> keptIds = new ArrayList<>();
                List<float[]> keptVectors = new ArrayList<>();
                for (int i = 0; i < ids.size(); i++) {
                    if (!have.contains(ids.get(i))) {
                        keptIds.add(ids.get(i));
                        keptVectors.add(vectors.get(i));
                    }
                }
                ids = keptIds;
                vectors = keptVectors;
            }
            rows.add(new VectorWriter.Rows(o.job.collection.id(), o.job.generation(), ids, vectors, o.model));
            metrics.chunks.increment(ids.size());
        }
        Timer.Sample copy = Timer.start();
        VectorWriter.write(c, rows); // one COPY for the whole batch
        copy.stop(metrics.vectorWrite);
    }

    /**
     * One current document's outcomes, judged by its collection's generations as they are now ({@code
     * live}, locked), not as they were read: the generation serving now decides the document's
     * status (a switch between the read and this write moves that decision to the new one); an
     * outcome of a generation pruned meanwhile, or of a number now another model's, is dropped; and a
     * generation the read did not see (made by a migrate after it) gets a request for the document
     * in the outbox, so no generation is left without its vectors. The serving generation's outcome
     * missing (it was not read) leaves the document {@code chunked}, asked for again.
     */
    private void apply(Connection c, List<Outcome> outcomes, List<Generation> live, List<Outcome> written)
            throws SQLException {
        Job first = outcomes.get(0).job;
        Outcome serving = null;
        List<Outcome> valid = new ArrayList<>();
        for (Outcome o : outcomes) {
            Generation g = live.stream()
                    .filter(l -> l.number() == o.job.generation()
                            && l.model().equals(o.job.collection.model())
                            && l.dimensions() == o.job.collection.dimensions())
                    .findFirst()
                    .orElse(null);
            if (g != null) {
                valid.add(o);
                serving = g.state() == GenerationState.SERVING ? o : serving;
            }
        }
        boolean unread = live.stream().anyMatch(g -> !g.model().equals(first.read.get(g.number())));
        // A generation that was not serving when read, failing for a while, may serve now (a switch
        // in between): the document is not failed for it, it stays chunked and is asked for again.
        boolean servingOwed = serving != null && serving.owed;
        if (unread || (!first.backfill && (serving == null || servingOwed))) {
            askAgain(c, first);
        }
        if (!first.backfill && serving != null && !servingOwed && serving.error != null) {
            fail(c, serving);
            return;
        }
        for (Outcome o : valid) {
            if (o.owed) {
                owed(o);
            } else if (o.error != null) {
                refused(c, o);
            } else {
                written.add(o);
            }
        }
        if (!first.backfill && serving != null && !servingOwed) {
            finish(c, serving.job, DocumentStatus.EMBEDDED, null, serving.model);
            metrics.embedded.increment();
        }
    }

    /**
     * Counts a generation's vectors of a document version as owed (nothing written of them): the
     * migration's sweep asks for the document again, with backoff, until they are written.
     */
    private void owed(Outcome o) {
        Job job = o.job;
        metrics.owed(job.collection.name(), job.generation()).increment();
        log.debug(
                "generation {} of document {}/{} version {} owed: {}",
                job.generation(),
                job.collection.name(),
                job.request().id(),
                job.request().version(),
                o.error);
    }

    /** Writes a request for the job's document version to the outbox: a generation this write does not cover. */
    private void askAgain(Connection c, Job job) throws SQLException {
        log.info(
                "document {}/{} version {}: a generation of its collection was made or switched to after its chunks"
                        + " were read, or its new serving model failed for now; asked for again so that generation"
                        + " gets its vectors",
                job.collection.name(),
                job.request().id(),
                job.request().version());
        metrics.askedAgain.increment();
        Outbox.append(c, REQUESTS, job.request());
    }

    /**
     * Records a generation's refusal of a document version; the first record of it (whichever worker
     * makes it) is logged at WARN and counted, a redelivery's at DEBUG.
     */
    private void refused(Connection c, Outcome o) throws SQLException {
        Job job = o.job;
        boolean first;
        try (PreparedStatement s = c.prepareStatement("insert into generation_refusals (collection_id, generation,"
                + " document_id, document_version, error) values (?, ?, ?, ?, ?) on conflict do nothing")) {
            s.setInt(1, job.collection.id());
            s.setInt(2, job.generation());
            s.setLong(3, job.request().document());
            s.setLong(4, job.request().version());
            s.setString(5, o.error);
            first = s.executeUpdate() == 1;
        }
        if (!first) {
            log.debug(
                    "generation {} of document {}/{} version {} refused again: {}",
                    job.generation(),
                    job.collection.name(),
                    job.request().id(),
                    job.request().version(),
                    o.error);
            return;
        }
        metrics.refused(job.collection.name(), job.generation()).increment();
        log.warn(
                "generation {} ({}) of collection '{}' refused document {} version {}: {}; its migration cannot"
                        + " complete until the document is published again in a form the model accepts, or deleted"
                        + " (collections migrate {} --status lists the refusals)",
                job.generation(),
                job.collection.model(),
                job.collection.name(),
                job.request().id(),
                job.request().version(),
                o.error,
                job.collection.name());
    }

    private void fail(Connection c, Outcome serving) throws SQLException {
        Job job = serving.job;
        log.info(
                "document {}/{} version {} failed: {}",
                job.collection.name(),
                job.request().id(),
                job.request().version(),
                serving.error);
        finish(c, job, DocumentStatus.FAILED, serving.error, null);
        metrics.failed.increment();
    }

    /** Deletes the vectors of {@code written}'s generations that another model made (replaced next). */
    private static void deleteStale(Connection c, List<Outcome> written) throws SQLException {
        for (Outcome o : written) {
            if (o.job.stale.isEmpty()) {
                continue;
            }
            try (PreparedStatement s =
                    c.prepareStatement("delete from chunk_embeddings where generation = ? and chunk_id = any(?)")) {
                s.setInt(1, o.job.generation());
                s.setArray(2, c.createArrayOf("bigint", o.job.stale.toArray()));
                s.executeUpdate();
            }
        }
    }

    /** The chunks of {@code ids} that have a vector of {@code generation} already. */
    private static Set<Long> existing(Connection c, int generation, List<Long> ids) throws SQLException {
        Set<Long> have = new HashSet<>();
        try (PreparedStatement s = c.prepareStatement(
                "select chunk_id from chunk_embeddings where generation = ? and chunk_id = any(?)")) {
            s.setInt(1, generation);
            s.setArray(2, c.createArrayOf("bigint", ids.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    have.add(rs.getLong(1));
                }
            }
        }
        return have;
    }

    /**
     * The generations of the batch's collections as they are now, by collection, each row locked
     * {@code FOR KEY SHARE} until commit ({@link Generation#lockedForWrite}): a prune waits for
     * this write and a write after it finds the generation gone; a switch, which locks them {@code
     * FOR UPDATE} before its last count, either counts this write or is seen by it.
     */
    private static Map<Integer, List<Generation>> lockGenerations(Connection c, Map<Long, List<Outcome>> byDocument)
            throws SQLException {
        Set<Integer> collections = new TreeSet<>();
        byDocument
                .values()
                .forEach(os -> collections.add(os.get(0).job.collection.id()));
        Map<Integer, List<Generation>> live = new HashMap<>();
        for (Generation g : Generation.lockedForWrite(c, collections)) {
            live.computeIfAbsent(g.collectionId(), k -> new ArrayList<>()).add(g);
        }
        return live;
    }

    /**
     * Locks the documents of {@code outcomes} (in id order, one statement) and returns those still
     * as they were read; counts the others by why they are not.
     */
    private Set<Long> lockCurrent(Connection c, Map<Long, List<Outcome>> outcomes) throws SQLException {
        Map<Long, Job> jobs = new LinkedHashMap<>();
        outcomes.forEach((d, os) -> jobs.put(d, os.get(0).job));
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
                    } else if (status == DocumentStatus.EMBEDDED && !job.backfill) {
                        metrics.duplicate.increment(); // another consumer embedded it meanwhile
                    } else if (status != DocumentStatus.EMBEDDED && job.backfill) {
                        metrics.obsolete.increment(); // re-embedded meanwhile: its own request embeds it
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
