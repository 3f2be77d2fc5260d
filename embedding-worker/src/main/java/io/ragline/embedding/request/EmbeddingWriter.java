package io.ragline.embedding.request;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.embedding.ProviderFailure;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies embedding requests in the consumer's transaction: for each request whose version is
 * still the document's, embed its chunks (all chunks of the batch that share a model in one call,
 * which the provider batches), write the vectors with {@link VectorWriter}, mark the document
 * {@code embedded} and write {@code document.embedded} to the outbox. A request for an older
 * version, or a deleted document, is obsolete and skipped; so is a request for a version already
 * embedded (delivered twice); a request of a paused collection is skipped too (its document stays
 * {@code chunked} until the collection resumes).
 *
 * <p>A model that refuses the input for good (HTTP 400, 413 or 422, a failed ONNX run) marks the
 * document {@code failed} (with {@code document.failed}); when it refuses a call shared by several
 * documents, each is embedded on its own and only those it still refuses fail. A model that is
 * unavailable (429, 5xx, timeouts), or an endpoint that refuses the worker itself (401, 403, 404
 * and any other status: its key, URL or model), fails the batch so it is retried with backoff;
 * no document is marked failed for it. See {@link ProviderFailure}.
 */
public final class EmbeddingWriter implements BatchWriter<EmbeddingRequest> {
    private static final Logger log = LoggerFactory.getLogger(EmbeddingWriter.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final CollectionCatalog catalog;
    private final Function<Collection, EmbeddingProvider> providers;
    private final Counter embedded;
    private final Counter obsolete;
    private final Counter duplicate;
    private final Counter paused;
    private final Counter failed;
    private final Counter chunks;
    private final Timer inference;
    private final Timer vectorWrite;

    public EmbeddingWriter(
            CollectionCatalog catalog, Function<Collection, EmbeddingProvider> providers, MeterRegistry registry) {
        this.catalog = catalog;
        this.providers = providers;
        this.embedded = outcome(registry, "embedded");
        this.obsolete = outcome(registry, "obsolete");
        this.duplicate = outcome(registry, "duplicate");
        this.paused = outcome(registry, "paused");
        this.failed = outcome(registry, "failed");
        this.chunks = Counter.builder("ragline.embedding.chunks").register(registry);
        this.inference = Timer.builder("ragline.embedding.inference")
                .description("Time to embed the chunks of one batch and model")
                .register(registry);
        this.vectorWrite = Timer.builder("ragline.embedding.vector.write")
                .description("Time to write the vectors of one batch (one binary COPY)")
                .register(registry);
    }

    private static Counter outcome(MeterRegistry registry, String outcome) {
        return Counter.builder("ragline.embedding.requests")
                .description("Embedding requests, by outcome")
                .tag("outcome", outcome)
                .register(registry);
    }

    private record Job(EmbeddingRequest request, Collection collection, List<Long> ids, List<String> texts) {}

    @Override
    public void write(List<InboundRecord<EmbeddingRequest>> records, Connection c) throws Exception {
        Map<EmbeddingProvider, List<Job>> byProvider = new LinkedHashMap<>();
        Set<Long> taken = new HashSet<>();
        for (InboundRecord<EmbeddingRequest> r : records) {
            EmbeddingRequest q = r.value();
            if (taken.contains(q.document())) {
                // The same request twice in one batch (a resume, a redelivery): the document is not
                // marked embedded until the end of the batch, so current() would let it through.
                duplicate.increment();
                continue;
            }
            Collection collection = current(c, q);
            if (collection == null) {
                continue;
            }
            taken.add(q.document());
            Job job = new Job(q, collection, new ArrayList<>(), new ArrayList<>());
            // By document, not by version: content that came again unchanged keeps its chunks (and
            // their document_version) under the document's newer version.
            try (PreparedStatement s =
                    c.prepareStatement("select id, content from chunks where document_id = ? order by seq")) {
                s.setLong(1, q.document());
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        job.ids.add(rs.getLong(1));
                        job.texts.add(rs.getString(2));
                    }
                }
            }
            EmbeddingProvider provider;
            try {
                provider = providers.apply(collection);
            } catch (EmbeddingException e) {
                if (e.retryable()) {
                    throw e;
                }
                fail(c, job, e.getMessage()); // a model this worker cannot run: say so on the document
                continue;
            }
            byProvider.computeIfAbsent(provider, p -> new ArrayList<>()).add(job);
        }
        List<VectorWriter.Rows> vectorRows = new ArrayList<>();
        for (Map.Entry<EmbeddingProvider, List<Job>> e : byProvider.entrySet()) {
            EmbeddingProvider provider = e.getKey();
            List<Job> jobs = e.getValue();
            List<List<float[]>> vectors = embed(c, provider, jobs);
            for (int i = 0; i < jobs.size(); i++) {
                Job job = jobs.get(i);
                List<float[]> mine = vectors.get(i);
                if (mine == null) {
                    continue; // refused and failed
                }
                if (!mine.isEmpty() && mine.get(0).length != job.collection.dimensions()) {
                    fail(
                            c,
                            job,
                            "model " + provider.model() + " gives " + mine.get(0).length
                                    + " dimensions, collection '" + job.collection.name() + "' has "
                                    + job.collection.dimensions());
                    continue;
                }
                vectorRows.add(new VectorWriter.Rows(job.collection.id(), job.ids, mine, provider.model()));
                finish(c, job, "embedded", null, provider.model());
                chunks.increment(job.ids.size());
                embedded.increment();
            }
        }
        Timer.Sample copy = Timer.start();
        VectorWriter.write(c, vectorRows); // one COPY for the whole batch
        copy.stop(vectorWrite);
    }

    /**
     * The vectors of each job, in the jobs' order, from one call for all of them; null for a job
     * whose input the model refuses, which is then failed. When the model refuses the call of
     * several jobs, each job is embedded on its own so only the documents it still refuses fail
     * (one bad document must not fail the documents that happened to share its batch).
     *
     * @throws EmbeddingException (retryable) when the model is unavailable or the endpoint refuses
     *     this worker (its key, URL or model), which no document is to blame for: the batch is
     *     retried with backoff
     */
    private List<List<float[]>> embed(Connection c, EmbeddingProvider provider, List<Job> jobs) throws SQLException {
        List<String> texts = new ArrayList<>();
        jobs.forEach(j -> texts.addAll(j.texts));
        List<float[]> all;
        try {
            all = timedEmbed(provider, texts);
        } catch (EmbeddingException refused) {
            requireRefusedInput(refused);
            if (jobs.size() == 1) {
                fail(c, jobs.get(0), refused.getMessage());
                return Collections.singletonList(null);
            }
            log.info(
                    "model {} refused the chunks of {} documents ({}); embedding each document on its own to fail only"
                            + " those it refuses",
                    provider.model(),
                    jobs.size(),
                    refused.getMessage());
            List<List<float[]>> each = new ArrayList<>(jobs.size());
            for (Job job : jobs) {
                try {
                    each.add(timedEmbed(provider, job.texts));
                } catch (EmbeddingException alone) {
                    requireRefusedInput(alone);
                    fail(c, job, alone.getMessage());
                    each.add(null);
                }
            }
            return each;
        }
        List<List<float[]>> each = new ArrayList<>(jobs.size());
        int at = 0;
        for (Job job : jobs) {
            each.add(all.subList(at, at + job.texts.size()));
            at += job.texts.size();
        }
        return each;
    }

    private List<float[]> timedEmbed(EmbeddingProvider provider, List<String> texts) {
        Timer.Sample sample = Timer.start();
        List<float[]> vectors = provider.embed(texts);
        sample.stop(inference);
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

    /**
     * The request's collection if the document still has the request's version, is not embedded
     * already (a request delivered twice) and its collection is not paused; locks the document. The collection's status is read here, not from the
     * catalog's cache, so a resume (which re-requests the waiting documents in its transaction)
     * is seen by the requests it writes.
     */
    private Collection current(Connection c, EmbeddingRequest q) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select d.version, d.status, c.name, c.status, c.id from"
                + " documents d join collections c on c.id = d.collection_id where d.id = ? for update of d")) {
            s.setLong(1, q.document());
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()
                        || rs.getLong(1) != q.version()
                        || rs.getString(2).equals("deleted")) {
                    obsolete.increment();
                    return null;
                }
                if (rs.getString(2).equals("embedded")) {
                    duplicate.increment(); // its vectors and its document.embedded are written
                    return null;
                }
                if (rs.getString(4).equals("paused")) {
                    paused.increment(); // the document stays 'chunked'; the resume asks again
                    return null;
                }
                Collection cached = catalog.find(c, rs.getString(3));
                // A collection dropped and created again under its name within the cache's life:
                // the vectors must carry the document's collection id.
                return cached != null && cached.id() == rs.getInt(5) ? cached : catalog.reload(c, rs.getString(3));
            }
        }
    }

    private void fail(Connection c, Job job, String error) throws SQLException {
        log.info(
                "document {}/{} version {} failed: {}",
                job.collection.name(),
                job.request.id(),
                job.request.version(),
                error);
        finish(c, job, "failed", error, null);
        failed.increment();
    }

    private static void finish(Connection c, Job job, String status, String error, String model) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("update documents set status = ?, error = ?, embedded_at ="
                + " case when ? = 'embedded' then now() end, updated_at = now() where id = ?")) {
            s.setString(1, status);
            s.setString(2, error);
            s.setString(3, status);
            s.setLong(4, job.request.document());
            s.executeUpdate();
        }
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("schema_version", 1);
        event.put("type", "document." + status);
        event.put("collection", job.collection.name());
        event.put("id", job.request.id());
        event.put("version", job.request.version());
        event.put("chunks", job.ids.size());
        if (model != null) {
            event.put("model", model);
        }
        if (error != null) {
            event.put("error", error);
        }
        try (PreparedStatement s = c.prepareStatement(
                "insert into outbox (topic, key, payload) values ('pipeline-events', ?, ?::jsonb)")) {
            s.setString(1, job.collection.name() + "/" + job.request.id());
            s.setString(2, JSON.writeValueAsString(event));
            s.executeUpdate();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
