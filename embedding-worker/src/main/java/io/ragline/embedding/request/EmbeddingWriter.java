package io.ragline.embedding.request;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.collections.GenerationState;
import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.embedding.ProviderFailure;
import io.ragline.embedding.request.EmbeddedBatch.Job;
import io.ragline.embedding.request.EmbeddedBatch.Outcome;
import io.ragline.embedding.request.StoredDocuments.Part;
import io.ragline.embedding.request.StoredDocuments.Stored;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies embedding requests in three steps, so that no connection and no row lock is held while
 * a model runs (an ONNX run of seconds, or an HTTP provider that may take as long):
 *
 * <ol>
 *   <li>{@link #prepare}, on a connection of its own returned at once: reads, in one statement,
 *       each requested document and its chunks that have no vector of the collection's model (a
 *       chunk an update kept has its vector already: it is counted {@code reused}, not embedded
 *       again). A request for an older version or a deleted
 *       document is obsolete and skipped; so is a request for a version already embedded
 *       (delivered twice, also twice in one batch) and a request of a paused collection (its
 *       document stays {@code chunked} until the collection resumes).
 *   <li>then, with no connection held, embeds those chunks: all chunks of the batch that share a
 *       model in one call, which the provider batches (none when every vector was kept).
 *   <li>the {@link EmbeddedBatch} it returns writes, in the consumer's transaction, after locking
 *       the documents and checking them again: a document updated, deleted, paused or embedded
 *       meanwhile drops its vectors; the others get their vectors ({@link VectorWriter}), their
 *       status and {@code document.embedded} (or {@code document.failed}) in the outbox.
 * </ol>
 *
 * <p>A model that refuses the input for good (HTTP 400, 413 or 422, a failed ONNX run), or gives
 * vectors of other dimensions than the collection's, or that this worker cannot run, marks the
 * document {@code failed} (with {@code document.failed}); when it refuses a call shared by several
 * documents, each is embedded on its own and only those it still refuses fail. A model that is
 * unavailable (429, 5xx, timeouts), or an endpoint that refuses the worker itself (401, 403, 404
 * and any other status: its key, URL or model), fails the batch so it is retried with backoff;
 * no document is marked failed for it. See {@link ProviderFailure}. That holds for the serving
 * generation's model; a building or kept generation's model failing so only makes its vectors
 * owed (the serving ones are written, the migration's sweep asks again), so that it holds back
 * neither the serving vectors nor other collections, and so does a building or kept generation's
 * provider this worker cannot create (its endpoint not configured here, its model not in this
 * build): configuration, mended by an operator, never recorded as the model refusing the input.
 */
public final class EmbeddingWriter implements BatchWriter<EmbeddingRequest> {
    private static final Logger log = LoggerFactory.getLogger(EmbeddingWriter.class);

    private final DataSource dataSource;
    private final CollectionCatalog catalog;
    private final Function<Collection, EmbeddingProvider> providers;
    private final EmbeddingMetrics metrics;

    public EmbeddingWriter(
            DataSource dataSource,
            CollectionCatalog catalog,
            Function<Collection, EmbeddingProvider> providers,
            MeterRegistry registry) {
        this.dataSource = dataSource;
        this.catalog = catalog;
        this.providers = providers;
        this.metrics = new EmbeddingMetrics(registry);
    }

    /** Reads the documents' chunks (a connection of its own, returned), embeds them with none held. */
    @Override
    public BatchWriter<EmbeddingRequest> prepare(List<InboundRecord<EmbeddingRequest>> records) throws Exception {
        List<Job> jobs = read(records);
        Map<Call, List<Job>> byCall = new LinkedHashMap<>();
        List<Outcome> outcomes = new ArrayList<>();
        Map<String, Integer> uncreatable = new LinkedHashMap<>();
        for (Job job : jobs) {
            try {
                byCall.computeIfAbsent(
                                new Call(providers.apply(job.collection()), job.servingWhenRead()),
                                p -> new ArrayList<>())
                        .add(job);
            } catch (EmbeddingException e) {
                if (job.servingWhenRead()) {
                    if (e.retryable()) {
                        throw e;
                    }
                    outcomes.add(Outcome.failed(job, e.getMessage()));
                } else {
                    // Another generation's provider this worker cannot create (still loading; or its
                    // endpoint not configured here, its model not in this build: configuration, which an
                    // operator mends) refused no input: owed, so the sweep asks again, never a refusal.
                    outcomes.add(Outcome.owed(job, e.getMessage()));
                    uncreatable.merge(e.getMessage(), 1, Integer::sum);
                }
            }
        }
        uncreatable.forEach((error, n) -> log.warn(
                "the model of a building or kept generation cannot run on this embedding-worker ({} job(s)): {};"
                        + " the serving vectors are written without its vectors, which are owed: the migration's"
                        + " sweep asks for those documents again",
                n,
                error));
        for (Map.Entry<Call, List<Job>> e : byCall.entrySet()) {
            outcomes.addAll(e.getKey().serving() ? embed(e.getKey().provider(), e.getValue()) : owedOnFailure(e));
        }
        return new EmbeddedBatch(outcomes, metrics);
    }

    /**
     * One model call: the serving generations' jobs apart from the others', so that a building or
     * kept generation's model that fails does not hold back the serving vectors of the same batch.
     */
    private record Call(EmbeddingProvider provider, boolean serving) {}

    /**
     * The outcomes of jobs of generations that were not serving when read: a failure a retry may
     * mend (the model unavailable, or refusing this worker) makes them owed instead of failing the
     * batch; the serving vectors are written and the migration's sweep ({@code
     * request_owed_vectors}, V28) asks for these documents again.
     */
    private List<Outcome> owedOnFailure(Map.Entry<Call, List<Job>> call) {
        try {
            return embed(call.getKey().provider(), call.getValue());
        } catch (EmbeddingException e) {
            Job first = call.getValue().get(0);
            log.warn(
                    "model {} of a building or kept generation (collection '{}' generation {}, {} job(s) in all)"
                            + " failed: {}; the serving vectors are written without its vectors, which are owed:"
                            + " the migration's sweep asks for those documents again",
                    call.getKey().provider().model(),
                    first.collection().name(),
                    first.generation(),
                    call.getValue().size(),
                    e.getMessage());
            return call.getValue().stream()
                    .map(j -> Outcome.owed(j, e.getMessage()))
                    .toList();
        }
    }

    /**
     * Prepares and writes the batch in the caller's transaction. {@link
     * io.ragline.core.consumer.PostgresBatchSink} does not call this: it calls {@link #prepare}
     * before it takes a connection and writes with the writer that returns.
     */
    @Override
    public void write(List<InboundRecord<EmbeddingRequest>> records, Connection c) throws Exception {
        prepare(records).write(records, c);
    }

    /**
     * The requests still current, as jobs: one per live embedding generation of the document's
     * collection, each with the document's chunks that lack a vector of that generation. All read in
     * one statement (one snapshot: the chunks are the version's that was read) on a connection
     * returned at once.
     */
    private List<Job> read(List<InboundRecord<EmbeddingRequest>> records) throws SQLException {
        List<Job> jobs = new ArrayList<>();
        if (records.isEmpty()) {
            return jobs;
        }
        Set<Long> documents = new HashSet<>();
        records.forEach(r -> documents.add(r.value().document()));
        try (Connection c = dataSource.getConnection()) {
            Map<Long, Stored> stored = StoredDocuments.load(c, documents);
            Set<Long> taken = new HashSet<>();
            // Newest first: the last record of a document carries its job. A batch delivered again
            // reaches EmbeddedBatch without the records whose offsets are stored, and a document's
            // records share its key and partition, so its last record is new whenever any is.
            List<InboundRecord<EmbeddingRequest>> newestFirst = new ArrayList<>(records);
            Collections.reverse(newestFirst);
            for (InboundRecord<EmbeddingRequest> r : newestFirst) {
                EmbeddingRequest q = r.value();
                if (taken.contains(q.document())) {
                    metrics.duplicate.increment(); // the same request twice in one batch
                    continue;
                }
                Stored s = stored.get(q.document());
                Collection collection = current(c, q, s);
                if (collection != null) {
                    taken.add(q.document());
                    List<Job> mine = jobs(r, collection, s);
                    Collections.reverse(mine);
                    jobs.addAll(mine);
                }
            }
        }
        Collections.reverse(jobs); // back in the batch's order
        return jobs;
    }

    /**
     * The jobs of a current request: for a {@code chunked} document one per generation (the
     * serving one decides its status), for an {@code embedded} one (a migration's backfill) one per
     * generation that lacks vectors; none when it lacks none (a request delivered twice).
     */
    private List<Job> jobs(InboundRecord<EmbeddingRequest> r, Collection collection, Stored s) {
        boolean backfill = s.status() == DocumentStatus.EMBEDDED;
        Map<Integer, String> read = new HashMap<>();
        s.parts().forEach((n, p) -> read.put(n, p.generation().model()));
        List<Job> jobs = new ArrayList<>();
        for (Part p : s.parts().values()) {
            if (backfill && p.ids().isEmpty()) {
                continue;
            }
            jobs.add(new Job(
                    r,
                    collection.as(p.generation()),
                    Map.copyOf(read),
                    p.generation().state() == GenerationState.SERVING,
                    backfill,
                    p.reused().size() + p.ids().size(),
                    p.ids(),
                    p.texts(),
                    p.stale()));
        }
        if (jobs.isEmpty()) {
            metrics.duplicate.increment(); // its vectors and its document.embedded are written
        }
        return jobs;
    }

    /**
     * The request's collection if the document still has the request's version and its
     * collection is not paused. The collection's status is read with the document, not from the
     * catalog's cache, so a resume (which re-requests the waiting documents in its transaction) is
     * seen by the requests it writes. An {@code embedded} document is current too: {@link #jobs}
     * tells a migration's backfill from a request delivered twice.
     */
    private Collection current(Connection c, EmbeddingRequest q, Stored d) throws SQLException {
        if (d == null || d.version() != q.version() || d.status() == DocumentStatus.DELETED) {
            metrics.obsolete.increment();
            return null;
        }
        if (d.collectionStatus().equals("paused")) {
            metrics.paused.increment(); // the document stays 'chunked'; the resume asks again
            return null;
        }
        Collection cached = catalog.find(c, d.collection());
        // A collection dropped and created again under its name within the cache's life: the
        // vectors must carry the document's collection id.
        return cached != null && cached.id() == d.collectionId() ? cached : catalog.reload(c, d.collection());
    }

    /**
     * The outcome of each job, from one call for all of them: its vectors, or its failure when
     * the model refuses its input or gives vectors of other dimensions than its collection's.
     * When the model refuses the call of several jobs, each job is embedded on its own so only
     * the documents it still refuses fail (one bad document must not fail the documents that
     * happened to share its batch).
     *
     * @throws EmbeddingException (retryable) when the model is unavailable or the endpoint refuses
     *     this worker (its key, URL or model), which no document is to blame for: the batch is
     *     retried with backoff
     */
    private List<Outcome> embed(EmbeddingProvider provider, List<Job> jobs) {
        List<String> texts = new ArrayList<>();
        jobs.forEach(j -> texts.addAll(j.texts()));
        List<float[]> all;
        try {
            all = texts.isEmpty() ? List.of() : timedEmbed(provider, texts); // every vector kept
        } catch (EmbeddingException refused) {
            requireRefusedInput(refused);
            if (jobs.size() == 1) {
                return List.of(Outcome.failed(jobs.get(0), refused.getMessage()));
            }
            log.info(
                    "model {} refused the chunks of {} documents ({}); embedding each document on its own to fail only"
                            + " those it refuses",
                    provider.model(),
                    jobs.size(),
                    refused.getMessage());
            List<Outcome> each = new ArrayList<>(jobs.size());
            for (Job job : jobs) {
                try {
                    List<float[]> vectors = job.texts().isEmpty() ? List.of() : timedEmbed(provider, job.texts());
                    each.add(checked(provider, job, vectors));
                } catch (EmbeddingException alone) {
                    requireRefusedInput(alone);
                    each.add(Outcome.failed(job, alone.getMessage()));
                }
            }
            return each;
        }
        List<Outcome> each = new ArrayList<>(jobs.size());
        int at = 0;
        for (Job job : jobs) {
            each.add(checked(provider, job, all.subList(at, at + job.texts().size())));
            at += job.texts().size();
        }
        return each;
    }

    private Outcome checked(EmbeddingProvider provider, Job job, List<float[]> vectors) {
        if (!vectors.isEmpty() && vectors.get(0).length != job.collection().dimensions()) {
            return Outcome.failed(
                    job,
                    "model " + provider.model() + " gives " + vectors.get(0).length + " dimensions, collection '"
                            + job.collection().name() + "' has "
                            + job.collection().dimensions());
        }
        metrics.computed.increment(vectors.size());
        metrics.reused.increment(job.chunks() - job.ids().size());
        return Outcome.embedded(job, vectors, provider.model());
    }

    private List<float[]> timedEmbed(EmbeddingProvider provider, List<String> texts) {
        Timer.Sample sample = Timer.start();
        List<float[]> vectors = provider.embed(texts);
        sample.stop(metrics.inference);
        return vectors;
    }

    /**
     * Returns if {@code failure} blames the input (the documents); otherwise throws a retryable
     * failure: the batch is retried with backoff (the worker's failure policy: transient), and the
     * message, which the consumer logs when it pauses, says why.
     */
    private static void requireRefusedInput(EmbeddingException failure) {
        switch (ProviderFailure.of(failure)) {
            case UNAVAILABLE -> throw failure;
            case MISCONFIGURED ->
                throw new EmbeddingException(
                        "the embedding endpoint refuses this worker, not the documents' content ("
                                + failure.getMessage() + "): check RAGLINE_OPENAI_BASE_URL, RAGLINE_OPENAI_API_KEY"
                                + " and the collection's model; no document is marked failed, the batch is retried"
                                + " with backoff",
                        true,
                        failure);
            case INPUT_REFUSED -> {
                // the caller fails the documents
            }
        }
    }
}
