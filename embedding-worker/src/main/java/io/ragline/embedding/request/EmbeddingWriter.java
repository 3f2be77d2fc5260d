package io.ragline.embedding.request;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Applies embedding requests in the consumer's transaction: for each request whose version is
 * still the document's, embed its chunks (all chunks of the batch that share a model in one call,
 * which the provider batches), write the vectors with {@link VectorWriter}, mark the document
 * {@code embedded} and write {@code document.embedded} to the outbox. A request for an older
 * version, or a deleted document, is obsolete and skipped; so is a request for a version already
 * embedded (delivered twice); a request of a paused collection is
 * skipped too (its document stays {@code chunked} until the collection resumes). A model that refuses the input for
 * good marks the document {@code failed} (with {@code document.failed}); a model that is
 * unavailable fails the batch so it is retried.
 */
public final class EmbeddingWriter implements BatchWriter<EmbeddingRequest> {
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
            List<String> texts = new ArrayList<>();
            e.getValue().forEach(j -> texts.addAll(j.texts));
            List<float[]> vectors;
            try {
                Timer.Sample sample = Timer.start();
                vectors = provider.embed(texts);
                sample.stop(inference);
            } catch (EmbeddingException failure) {
                if (failure.retryable()) {
                    throw failure; // the batch is retried with backoff
                }
                for (Job job : e.getValue()) {
                    fail(c, job, failure.getMessage());
                }
                continue;
            }
            int at = 0;
            for (Job job : e.getValue()) {
                List<float[]> mine = vectors.subList(at, at + job.texts.size());
                at += job.texts.size();
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
