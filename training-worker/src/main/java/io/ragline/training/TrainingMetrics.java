package io.ragline.training;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The training-worker's meters: {@code ragline_training_jobs_total{backend,outcome}} (outcome =
 * succeeded / failed / cancelled / requeued / lost), {@code
 * ragline_training_job_duration_seconds{backend}}, {@code ragline_training_jobs_running}, {@code
 * ragline_training_requests_total{outcome}} (admitted / duplicate / dead_lettered) and {@code
 * ragline_training_predictions_total}.
 */
public final class TrainingMetrics {
    private final MeterRegistry registry;
    private final AtomicInteger running = new AtomicInteger();
    private final Counter predictions;

    public TrainingMetrics(MeterRegistry registry) {
        this.registry = registry;
        registry.gauge("ragline.training.jobs.running", running);
        this.predictions = Counter.builder("ragline.training.predictions")
                .description("Documents labelled by a deployed builtin model")
                .register(registry);
    }

    public void job(String backend, String outcome, Duration took) {
        Counter.builder("ragline.training.jobs")
                .description("Training jobs that ended, by backend and outcome")
                .tag("backend", backend)
                .tag("outcome", outcome)
                .register(registry)
                .increment();
        if (took != null) {
            Timer.builder("ragline.training.job.duration")
                    .description("Time a job ran on this worker")
                    .tag("backend", backend)
                    .register(registry)
                    .record(took);
        }
    }

    public void request(String outcome) {
        Counter.builder("ragline.training.requests")
                .description("training records consumed, by outcome")
                .tag("outcome", outcome)
                .register(registry)
                .increment();
    }

    public void started() {
        running.incrementAndGet();
    }

    public void ended() {
        running.decrementAndGet();
    }

    public void predicted(int documents) {
        predictions.increment(documents);
    }
}
