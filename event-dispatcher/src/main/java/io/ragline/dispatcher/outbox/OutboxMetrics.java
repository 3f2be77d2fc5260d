package io.ragline.dispatcher.outbox;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code ragline_outbox_backlog_rows}, {@code ragline_outbox_oldest_age_seconds},
 * {@code ragline_outbox_leader} (1 on the instance that publishes), {@code
 * ragline_outbox_publish_latency_seconds} (insert to Kafka acknowledgement, histogram), {@code
 * ragline_outbox_batch_size}, {@code ragline_outbox_published_total}, {@code
 * ragline_outbox_publish_failures_total}, {@code ragline_outbox_dead_lettered_total} and {@code
 * ragline_outbox_dead_letters_rows} (rows in {@code outbox_dead_letters}).
 */
public final class OutboxMetrics {
    private final AtomicLong backlogRows = new AtomicLong();
    private final AtomicReference<Double> oldestAge = new AtomicReference<>(0.0);
    private final AtomicLong leader = new AtomicLong();
    private final Timer latency;
    private final DistributionSummary batchSize;
    private final io.micrometer.core.instrument.Counter published;
    private final io.micrometer.core.instrument.Counter failures;
    private final io.micrometer.core.instrument.Counter deadLettered;
    private final AtomicLong deadLetterRows = new AtomicLong();

    public OutboxMetrics(MeterRegistry registry) {
        Gauge.builder("ragline.outbox.backlog.rows", backlogRows, AtomicLong::get)
                .description("Outbox rows waiting to be published (counted up to 1,000,000)")
                .register(registry);
        Gauge.builder("ragline.outbox.oldest.age", oldestAge, AtomicReference::get)
                .baseUnit("seconds")
                .description("Age of the oldest row waiting in the outbox")
                .register(registry);
        Gauge.builder("ragline.outbox.leader", leader, AtomicLong::get)
                .description("1 on the dispatcher that holds the outbox lease")
                .register(registry);
        latency = Timer.builder("ragline.outbox.publish.latency")
                .description("From the outbox insert to Kafka's acknowledgement")
                .publishPercentileHistogram()
                .publishPercentiles(0.5, 0.99)
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(5))
                .register(registry);
        batchSize = DistributionSummary.builder("ragline.outbox.batch.size")
                .serviceLevelObjectives(1, 10, 100, 500, 1000, 5000)
                .register(registry);
        published = io.micrometer.core.instrument.Counter.builder("ragline.outbox.published")
                .register(registry);
        failures = io.micrometer.core.instrument.Counter.builder("ragline.outbox.publish.failures")
                .register(registry);
        deadLettered = io.micrometer.core.instrument.Counter.builder("ragline.outbox.dead.lettered")
                .description("Rows Kafka refused for good, moved to outbox_dead_letters")
                .register(registry);
        Gauge.builder("ragline.outbox.dead.letters.rows", deadLetterRows, AtomicLong::get)
                .description("Rows in outbox_dead_letters")
                .register(registry);
    }

    void backlog(OutboxStore.Backlog b) {
        backlogRows.set(b.rows());
        oldestAge.set(b.oldestAgeSeconds());
        deadLetterRows.set(b.deadLetters());
    }

    void leader(boolean isLeader) {
        leader.set(isLeader ? 1 : 0);
    }

    boolean isLeader() {
        return leader.get() == 1;
    }

    void batch(int size) {
        batchSize.record(size);
    }

    /** {@code ackedNanos} and the row's insert moment are both on the JVM's nanoTime clock. */
    void published(OutboxRow row, long ackedNanos) {
        published.increment();
        latency.record(Math.max(0, ackedNanos - row.insertedNanos()), java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void deadLettered(int rows) {
        deadLettered.increment(rows);
    }

    void failure() {
        failures.increment();
    }
}
