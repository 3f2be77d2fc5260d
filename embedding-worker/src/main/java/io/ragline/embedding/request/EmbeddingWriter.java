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
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.embedding.NonServingSettings;
import io.ragline.embedding.request.EmbeddedBatch.Job;
import io.ragline.embedding.request.EmbeddedBatch.Outcome;
import io.ragline.embedding.request.StoredDocuments.Part;
import io.ragline.embedding.request.StoredDocuments.Stored;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import io.ragline.embeddings.EmbeddingSettings;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;
import javax.sql.DataSource;

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
 *   <li>then, with no connection held, embeds those chunks: the serving generations' chunks of
 *       the batch that share a model in one call on this thread, which the provider batches (none
 *       when every vector was kept); the other generations' side by side on threads of their own,
 *       each answer of their models waited for at most a deadline ({@link NonServingCalls}).
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
 * no document is marked failed for it. See {@link io.ragline.embedding.ProviderFailure}. That
 * holds for the serving generation's model; a building or kept generation's model failing so, or
 * not answering within {@code RAGLINE_EMBEDDING_NONSERVING_DEADLINE}, only makes its vectors owed
 * (the serving ones are written, the migration's sweep asks again), so that it holds back neither
 * the serving vectors nor other collections, and so does a building or kept generation's provider
 * this worker cannot create (its endpoint not configured here, its model not in this build):
 * configuration, mended by an operator, never recorded as the model refusing the input.
 */
public final class EmbeddingWriter implements BatchWriter<EmbeddingRequest>, AutoCloseable {
    private final DataSource dataSource;
    private final CollectionCatalog catalog;
    private final Function<Collection, EmbeddingProvider> providers;
    private final EmbeddingMetrics metrics;
    private final NonServingCalls nonServing;

    public EmbeddingWriter(
            DataSource dataSource,
            CollectionCatalog catalog,
            Function<Collection, EmbeddingProvider> providers,
            MeterRegistry registry) {
        this(
                dataSource,
                catalog,
                providers,
                (generation, problem) -> {},
                registry,
                NonServingSettings.DEFAULT_DEADLINE);
    }

    /**
     * A writer that waits at most {@code nonServingDeadline} for each answer of a building or kept
     * generation's model ({@code RAGLINE_EMBEDDING_NONSERVING_DEADLINE}) before it owes its vectors,
     * and tells {@code uncreatable} of such a generation whose provider this worker cannot create
     * (configuration: {@link io.ragline.embedding.ProviderRegistry#nonServingUncreatable}).
     */
    public EmbeddingWriter(
            DataSource dataSource,
            CollectionCatalog catalog,
            Function<Collection, EmbeddingProvider> providers,
            BiConsumer<Collection, String> uncreatable,
            MeterRegistry registry,
            Duration nonServingDeadline) {
        this(
                dataSource,
                catalog,
                providers,
                uncreatable,
                registry,
                nonServingDeadline,
                EmbeddingSettings.DEFAULT_BATCH_SIZE);
    }

    /**
     * As above, a non-serving call reaching its model {@code batchSize} texts at a time: the texts
     * per request or run of the providers ({@code RAGLINE_EMBEDDING_BATCH_SIZE}), so the deadline is
     * one per answer and a healthy model is called no more often than the serving one.
     */
    public EmbeddingWriter(
            DataSource dataSource,
            CollectionCatalog catalog,
            Function<Collection, EmbeddingProvider> providers,
            BiConsumer<Collection, String> uncreatable,
            MeterRegistry registry,
            Duration nonServingDeadline,
            int batchSize) {
        this(
                dataSource,
                catalog,
                providers,
                uncreatable,
                registry,
                nonServingDeadline,
                batchSize,
                KafkaSettings.DEFAULT_CONSUMER_THREADS);
    }

    /**
     * As above, for {@code consumers} consumer threads sharing this writer ({@code
     * RAGLINE_CONSUMER_THREADS}): the non-serving calls' threads are sized from them.
     */
    public EmbeddingWriter(
            DataSource dataSource,
            CollectionCatalog catalog,
            Function<Collection, EmbeddingProvider> providers,
            BiConsumer<Collection, String> uncreatable,
            MeterRegistry registry,
            Duration nonServingDeadline,
            int batchSize,
            int consumers) {
        this.dataSource = dataSource;
        this.catalog = catalog;
        this.providers = providers;
        this.metrics = new EmbeddingMetrics(registry);
        this.nonServing = new NonServingCalls(
                providers, uncreatable, nonServingDeadline, batchSize, consumers, metrics, registry);
    }

    /**
     * Reads the documents' chunks (a connection of its own, returned), embeds them with none held:
     * the serving generations' on this thread, the others' side by side under a deadline ({@link
     * NonServingCalls}).
     */
    @Override
    public BatchWriter<EmbeddingRequest> prepare(List<InboundRecord<EmbeddingRequest>> records) throws Exception {
        List<Job> jobs = read(records);
        NonServingCalls.Started others =
                nonServing.start(jobs.stream().filter(j -> !j.servingWhenRead()).toList());
        List<Outcome> outcomes;
        try {
            outcomes = new ArrayList<>(
                    serving(jobs.stream().filter(Job::servingWhenRead).toList()));
        } catch (RuntimeException | Error e) {
            nonServing.abandon(others); // the batch is retried with backoff
            throw e;
        }
        outcomes.addAll(nonServing.await(others));
        return new EmbeddedBatch(outcomes, metrics);
    }

    /**
     * The outcomes of the serving generations' jobs, a call per model. A failure a retry may mend
     * fails the batch (no document is failed for it); a provider this worker cannot create for good
     * fails the jobs' documents.
     */
    private List<Outcome> serving(List<Job> jobs) {
        Map<EmbeddingProvider, List<Job>> byProvider = new LinkedHashMap<>();
        List<Outcome> outcomes = new ArrayList<>();
        for (Job job : jobs) {
            try {
                byProvider
                        .computeIfAbsent(providers.apply(job.collection()), p -> new ArrayList<>())
                        .add(job);
            } catch (EmbeddingException e) {
                if (e.retryable()) {
                    throw e;
                }
                outcomes.add(Outcome.failed(job, e.getMessage()));
            }
        }
        byProvider.forEach(
                (provider, mine) -> outcomes.addAll(ModelCall.embed(provider, mine, this::timedEmbed, metrics)));
        return outcomes;
    }

    /**
     * Interrupts the non-serving calls still running and waits for them briefly ({@link
     * NonServingCalls#close}); the consumer that used this writer has stopped.
     */
    @Override
    public void close() {
        nonServing.close();
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

    private List<float[]> timedEmbed(EmbeddingProvider provider, List<String> texts) {
        Timer.Sample sample = Timer.start();
        List<float[]> vectors = provider.embed(texts);
        sample.stop(metrics.inference);
        return vectors;
    }
}
