package io.ragline.embedding.request;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The embedding path's meters: requests by outcome, chunks embedded, vectors computed or reused,
 * inference and COPY times.
 */
final class EmbeddingMetrics {
    final Counter embedded;
    final Counter obsolete;
    final Counter duplicate;
    final Counter paused;
    final Counter failed;
    final Counter askedAgain;
    final Counter chunks;
    final Counter computed;
    final Counter reused;
    final Timer inference;
    final Timer vectorWrite;
    private final MeterRegistry registry;

    EmbeddingMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.embedded = outcome(registry, "embedded");
        this.obsolete = outcome(registry, "obsolete");
        this.duplicate = outcome(registry, "duplicate");
        this.paused = outcome(registry, "paused");
        this.failed = outcome(registry, "failed");
        this.askedAgain = outcome(registry, "asked_again"); // a generation made or switched to after the read
        this.chunks = Counter.builder("ragline.embedding.chunks").register(registry);
        this.computed = vectors(registry, "computed");
        this.reused = vectors(registry, "reused");
        this.inference = Timer.builder("ragline.embedding.inference")
                .description("Time to embed the chunks of one batch and model")
                .register(registry);
        this.vectorWrite = Timer.builder("ragline.embedding.vector.write")
                .description("Time to write the vectors of one batch (one binary COPY)")
                .register(registry);
    }

    /**
     * Vectors of requested documents: {@code computed} by the model, or {@code reused} (a chunk an
     * update kept, whose vector of the collection's model is there). Counted as each batch is
     * prepared, so a batch prepared again (retried) counts again.
     */
    private static Counter vectors(MeterRegistry registry, String outcome) {
        return Counter.builder("ragline.embedding.vectors")
                .description("Vectors of requested documents' chunks, computed by the model or reused")
                .tag("outcome", outcome)
                .register(registry);
    }

    private static Counter outcome(MeterRegistry registry, String outcome) {
        return Counter.builder("ragline.embedding.requests")
                .description("Embedding requests, by outcome")
                .tag("outcome", outcome)
                .register(registry);
    }

    /** Document versions a migration's model refused, by collection and generation. */
    Counter refused(String collection, int generation) {
        return Counter.builder("ragline.migration.refused.documents")
                .description("Document versions the building generation's model refused: the migration waits for them")
                .tag("collection", collection)
                .tag("generation", Integer.toString(generation))
                .register(registry);
    }

    /**
     * Document versions whose vectors of a building or kept generation are owed: its model failed in
     * a way a retry may mend (unavailable, or refusing this worker), so the serving vectors were
     * written without them and the migration's sweep asks for them again.
     */
    Counter owed(String collection, int generation) {
        return Counter.builder("ragline.migration.owed.documents")
                .description("Document versions written without a building or kept generation's vectors, whose model"
                        + " failed for a while: asked for again by the migration's sweep")
                .tag("collection", collection)
                .tag("generation", Integer.toString(generation))
                .register(registry);
    }
}
