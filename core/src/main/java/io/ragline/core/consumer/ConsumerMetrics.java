package io.ragline.core.consumer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The poll loop's own metrics. Prometheus names: {@code ragline_consumer_records_total{topic,
 * outcome}} (processed, dead_lettered), {@code ragline_consumer_failures_total{topic,kind}},
 * {@code ragline_consumer_pauses_total{kind}}, {@code ragline_consumer_paused_partitions},
 * {@code ragline_consumer_offset_commits_total{outcome}} (per partition: committed, refused,
 * behind_stored, recommitted: {@link OffsetCommitter}), {@code ragline_consumer_offsets_owed},
 * {@code ragline_consumer_batch_size} and {@code ragline_consumer_batch_duration_seconds}
 * (histograms), {@code ragline_consumer_write_wait_seconds} (how long the consumer thread waited
 * for the previous batch's transaction with overlapped writes: {@link OverlappedWrites}), all
 * tagged with the consumer's {@code client}.
 */
public final class ConsumerMetrics {
    private final MeterRegistry registry;
    private final String client;
    private final AtomicInteger paused = new AtomicInteger();
    private final AtomicInteger owed = new AtomicInteger();
    private final DistributionSummary batchSize;
    private final Timer batchDuration;
    private final Timer writeWait;

    public ConsumerMetrics(MeterRegistry registry, String client) {
        this.registry = registry;
        this.client = client;
        Gauge.builder("ragline.consumer.paused.partitions", paused, AtomicInteger::get)
                .description("Partitions this consumer has paused while it backs off")
                .tag("client", client)
                .register(registry);
        Gauge.builder("ragline.consumer.offsets.owed", owed, AtomicInteger::get)
                .description("Partitions whose work is done and whose offset Kafka has not taken yet")
                .tag("client", client)
                .register(registry);
        this.batchSize = DistributionSummary.builder("ragline.consumer.batch.size")
                .description("Records per polled batch")
                .tag("client", client)
                .serviceLevelObjectives(1, 10, 50, 100, 250, 500, 1000)
                .register(registry);
        this.batchDuration = Timer.builder("ragline.consumer.batch.duration")
                .description("Time to write a batch, including its transaction")
                .tag("client", client)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
        this.writeWait = Timer.builder("ragline.consumer.write.wait")
                .description("Time the consumer thread waited for the previous batch's transaction (overlapped"
                        + " writes): near zero while preparing a batch (the model) is the bound, most of each"
                        + " transaction while the database is")
                .tag("client", client)
                .register(registry);
    }

    /** Metrics that go nowhere, for unit tests that do not look at them. */
    public static ConsumerMetrics discarding() {
        return new ConsumerMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), "test");
    }

    void processed(String topic, int count) {
        records(topic, "processed").increment(count);
    }

    /** Counts {@code written} as processed, per topic. */
    void processed(java.util.List<? extends InboundRecord<?>> written) {
        java.util.Map<String, Integer> perTopic = new java.util.HashMap<>();
        for (InboundRecord<?> r : written) {
            perTopic.merge(r.topic(), 1, Integer::sum);
        }
        perTopic.forEach(this::processed);
    }

    void deadLettered(String topic) {
        records(topic, "dead_lettered").increment();
    }

    void failure(String topic, FailureKind kind) {
        Counter.builder("ragline.consumer.failures")
                .tag("client", client)
                .tag("topic", topic)
                .tag("kind", kind.name().toLowerCase(java.util.Locale.ROOT))
                .register(registry)
                .increment();
    }

    void paused(int partitions, FailureKind kind) {
        paused.set(partitions);
        Counter.builder("ragline.consumer.pauses")
                .tag("client", client)
                .tag("kind", kind.name().toLowerCase(java.util.Locale.ROOT))
                .register(registry)
                .increment();
    }

    /** Partitions paused for a backoff now (after some resumed, were revoked, or joined a wait). */
    void pausedNow(int partitions) {
        paused.set(partitions);
    }

    int pausedPartitions() {
        return paused.get();
    }

    /** {@code partitions} offsets of one commit's {@code outcome} ({@link OffsetCommitter}). */
    void offsetCommits(String outcome, int partitions) {
        Counter.builder("ragline.consumer.offset.commits")
                .description(
                        "Partition offsets committed to Kafka, refused, found behind the stored ones, committed later")
                .tag("client", client)
                .tag("outcome", outcome)
                .register(registry)
                .increment(partitions);
    }

    /** Partitions whose offset Kafka has not taken yet, though their work is done. */
    void owedNow(int partitions) {
        owed.set(partitions);
    }

    void batch(int size, long nanos) {
        batchSize.record(size);
        batchDuration.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** The consumer thread waited {@code nanos} for the write in flight ({@link OverlappedWrites}). */
    void writeWait(long nanos) {
        writeWait.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private Counter records(String topic, String outcome) {
        return Counter.builder("ragline.consumer.records")
                .tag("client", client)
                .tag("topic", topic)
                .tag("outcome", outcome)
                .register(registry);
    }
}
