package io.ragline.embedding.request;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** The embedding path's meters: requests by outcome, chunks embedded, inference and COPY times. */
final class EmbeddingMetrics {
    final Counter embedded;
    final Counter obsolete;
    final Counter duplicate;
    final Counter paused;
    final Counter failed;
    final Counter chunks;
    final Timer inference;
    final Timer vectorWrite;

    EmbeddingMetrics(MeterRegistry registry) {
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
}
