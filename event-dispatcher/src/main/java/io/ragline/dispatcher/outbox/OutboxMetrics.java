package io.ragline.dispatcher.outbox;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ragline_outbox_backlog_rows}, {@code ragline_outbox_oldest_age_seconds},
 * {@code ragline_outbox_leader} (1 on the instance that publishes), {@code
 * ragline_outbox_publish_latency_seconds} (insert to Kafka acknowledgement, histogram), {@code
 * ragline_outbox_batch_size}, {@code ragline_outbox_published_total}, {@code
 * ragline_outbox_publish_failures_total}, {@code ragline_outbox_dead_lettered_total} and {@code
 * ragline_outbox_dead_letters_rows} (rows in {@code outbox_dead_letters}), and {@code
 * ragline_outbox_phase_seconds} (histogram by {@code phase}, see {@link Phase}): where a batch's
 * time goes, so an operator can tell a slow claim query from a slow Kafka commit, and {@code
 * ragline_outbox_claimed_ahead_total} (batches claimed while the one before them committed; with
 * two or more producers, also sent meanwhile), and {@code ragline_outbox_claims_ranked_total} (claims that
 * ranked by priority because a waiting row not held back had one other than 0; the others read in
 * id order).
 */
public final class OutboxMetrics {
    /**
     * Each phase as it ends, at TRACE: with the log's timestamps and thread names, a timeline of
     * the relay's batches to set beside a slow consumer's receipts (benchmarks.md, "Where the tail
     * comes from"). Off unless this logger is set to TRACE in the logging configuration.
     */
    private static final Logger phaseLog = LoggerFactory.getLogger(OutboxMetrics.class.getName() + ".phases");
    /** The steps of relaying a batch, each timed by {@code ragline_outbox_phase_seconds{phase}}. */
    public enum Phase {
        /** The query that picks the next batch (and deletes the batch published before it). */
        CLAIM,
        /**
         * The Kafka transaction's begin and sends, up to the commit (a new producer's init too); with
         * two or more producers, every acknowledgement too (the flush before the commit is handed over).
         */
        SEND,
        /** {@code commitTransaction()}: the flush, every acknowledgement and the commit itself. */
        COMMIT,
        /** Deleting a published batch on its own (when no claim follows to carry it). */
        DELETE,
        /** A renewal of the lease, on the heartbeat's thread. */
        LEASE_RENEWAL;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Map<Phase, Timer> phases = new EnumMap<>(Phase.class);
    private final AtomicLong backlogRows = new AtomicLong();
    private final AtomicReference<Double> oldestAge = new AtomicReference<>(0.0);
    private final AtomicLong leader = new AtomicLong();
    private final Timer latency;
    private final DistributionSummary batchSize;
    private final io.micrometer.core.instrument.Counter published;
    private final io.micrometer.core.instrument.Counter failures;
    private final io.micrometer.core.instrument.Counter deadLettered;
    private final io.micrometer.core.instrument.Counter listenLost;
    private final AtomicLong deadLetterRows = new AtomicLong();
    private final io.micrometer.core.instrument.Counter claimedAhead;
    private final io.micrometer.core.instrument.Counter toppedUp;
    private final io.micrometer.core.instrument.Counter ranked;

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
        listenLost = io.micrometer.core.instrument.Counter.builder("ragline.outbox.listen.lost")
                .description("LISTEN connections given up because they did not answer a probe within the socket"
                        + " timeout (a server gone silent); the relay LISTENs again on a new one")
                .register(registry);
        claimedAhead = io.micrometer.core.instrument.Counter.builder("ragline.outbox.claimed.ahead")
                .description("Batches claimed while the batch before them committed in Kafka")
                .register(registry);
        toppedUp = io.micrometer.core.instrument.Counter.builder("ragline.outbox.topped.up")
                .description("Rows sent into a batch already under way because they arrived while the batch before it"
                        + " committed in Kafka (two or more producers)")
                .register(registry);
        ranked = io.micrometer.core.instrument.Counter.builder("ragline.outbox.claims.ranked")
                .description("Claims that ranked the oldest rows by priority because a waiting row not held back had a"
                        + " priority other than 0 (the others read in id order, at about half the cost)")
                .register(registry);
        for (Phase phase : Phase.values()) {
            phases.put(
                    phase,
                    Timer.builder("ragline.outbox.phase")
                            .description("Time of one step of relaying a batch")
                            .tag("phase", phase.tag())
                            .publishPercentileHistogram()
                            .minimumExpectedValue(Duration.ofNanos(100_000))
                            .maximumExpectedValue(Duration.ofSeconds(30))
                            .register(registry));
        }
    }

    /** Records that {@code phase} took from {@code startNanos} ({@link System#nanoTime()}) until now. */
    void phase(Phase phase, long startNanos) {
        long nanos = System.nanoTime() - startNanos;
        phases.get(phase).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        if (phaseLog.isTraceEnabled()) {
            phaseLog.trace("{} {} ms", phase.tag(), String.format(Locale.ROOT, "%.2f", nanos / 1e6));
        }
    }

    void backlog(OutboxStore.Backlog b) {
        backlogRows.set(b.rows());
        oldestAge.set(b.oldestAgeSeconds());
        deadLetterRows.set(b.deadLetters());
    }

    void claimedAhead() {
        claimedAhead.increment();
    }

    void ranked() {
        ranked.increment();
    }

    void toppedUp(int rows) {
        toppedUp.increment(rows);
    }

    /** A drain found nothing to publish and nothing held back: no row waits now. */
    void emptied() {
        backlogRows.set(0);
        oldestAge.set(0.0);
    }

    void leader(boolean isLeader) {
        leader.set(isLeader ? 1 : 0);
    }

    boolean isLeader() {
        return leader.get() == 1;
    }

    void batch(int size) {
        batchSize.record(size);
        if (phaseLog.isTraceEnabled()) {
            phaseLog.trace("published {} rows", size);
        }
    }

    /** {@code ackedNanos} and the row's insert moment are both on the JVM's nanoTime clock. */
    void published(OutboxRow row, long ackedNanos) {
        published.increment();
        latency.record(Math.max(0, ackedNanos - row.insertedNanos()), java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void deadLettered(int rows) {
        deadLettered.increment(rows);
    }

    /** The LISTEN connection did not answer its probe and is given up. */
    void listenLost() {
        listenLost.increment();
    }

    void failure() {
        failures.increment();
    }
}
