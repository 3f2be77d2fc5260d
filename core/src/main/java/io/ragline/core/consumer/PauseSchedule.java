package io.ragline.core.consumer;

import io.ragline.core.resilience.Backoff;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A poll loop's back-off: what failed is rewound to its first offsets, partitions are paused until
 * a deadline on the loop's {@link Clock}, and polling goes on (so the consumer stays in its group)
 * until {@link #resumeDue()} resumes them. The wait is the {@link Backoff} of the attempt: failures
 * at the same first offsets count as consecutive attempts until they succeed, move on, or their
 * partitions are revoked. It owns every pause of its loop: a partition {@link #hold held} (while a
 * training job runs) is never resumed by a backoff, only by {@link #release}. Used by the loop's
 * thread only.
 */
public final class PauseSchedule {
    private static final Logger log = LoggerFactory.getLogger(PauseSchedule.class);

    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final Backoff backoff;
    private final Clock clock;
    private final ConsumerMetrics metrics;
    private final Map<TopicPartition, Instant> pausedUntil = new HashMap<>();
    /** Partitions paused until {@link #release}, whatever the clock says. */
    private final Set<TopicPartition> held = new HashSet<>();
    /** Failed attempts by what failed: the first offsets, per partition, of the records retried. */
    private final Map<Map<TopicPartition, Long>, Integer> attempts = new HashMap<>();

    public PauseSchedule(
            org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
            Backoff backoff,
            Clock clock,
            ConsumerMetrics metrics) {
        this.consumer = consumer;
        this.backoff = backoff;
        this.clock = clock;
        this.metrics = metrics;
    }

    /** Failed attempts so far at exactly these first offsets (0 when they have not failed). */
    public int attempts(Map<TopicPartition, Long> firstOffsets) {
        return attempts.getOrDefault(firstOffsets, 0);
    }

    /**
     * Counts a failed attempt at {@code firstOffsets}, seeks their partitions back to them, pauses
     * {@code pause} for the backoff of that attempt and logs it; returns the attempt's number.
     * Other failures counted on the same partitions are forgotten: their records moved on.
     */
    public int backOff(
            Map<TopicPartition, Long> firstOffsets,
            Collection<TopicPartition> pause,
            Throwable reason,
            FailureKind kind) {
        Set<TopicPartition> failing = firstOffsets.keySet();
        attempts.keySet().removeIf(key -> !key.equals(firstOffsets) && overlaps(key.keySet(), failing));
        int attempt = attempts.merge(Map.copyOf(firstOffsets), 1, Integer::sum);
        firstOffsets.forEach(consumer::seek);
        Duration wait = backoff.wait(attempt);
        Instant until = clock.instant().plus(wait);
        List<TopicPartition> paused = List.copyOf(pause);
        consumer.pause(paused);
        paused.forEach(tp -> pausedUntil.put(tp, until));
        metrics.paused(pausedUntil.size(), kind);
        log.warn(
                "paused partitions {} for {} ms (attempt {}, {}): {}",
                names(paused),
                wait.toMillis(),
                attempt,
                kind.name().toLowerCase(Locale.ROOT),
                reason.toString());
        return attempt;
    }

    /** Resumes the partitions whose backoff has passed on the clock; returns them. */
    public Collection<TopicPartition> resumeDue() {
        if (pausedUntil.isEmpty()) {
            return List.of();
        }
        Instant now = clock.instant();
        List<TopicPartition> due = new ArrayList<>();
        pausedUntil.forEach((tp, until) -> {
            if (!now.isBefore(until)) {
                due.add(tp);
            }
        });
        if (due.isEmpty()) {
            return due;
        }
        due.forEach(pausedUntil::remove);
        Set<TopicPartition> assigned = consumer.assignment();
        consumer.resume(due.stream()
                .filter(tp -> assigned.contains(tp) && !held.contains(tp))
                .toList());
        metrics.pausedNow(pausedUntil.size());
        log.info("resumed partitions {}", names(due));
        return due;
    }

    /** True while some partition waits for its backoff. */
    public boolean isBackingOff() {
        return !pausedUntil.isEmpty();
    }

    /** Pauses {@code partitions} too until the latest pending backoff ends (new partitions of a loop that waits). */
    public void extendTo(Collection<TopicPartition> partitions) {
        Instant until = pausedUntil.values().stream().max(Instant::compareTo).orElse(null);
        if (until == null || partitions.isEmpty()) {
            return;
        }
        consumer.pause(partitions);
        partitions.forEach(tp -> pausedUntil.put(tp, until));
        metrics.pausedNow(pausedUntil.size());
    }

    /** What failed on {@code partitions} now succeeded: the next failure there is a first attempt. */
    public void succeeded(Collection<TopicPartition> partitions) {
        attempts.keySet().removeIf(key -> overlaps(key.keySet(), partitions));
    }

    /**
     * Pauses {@code partition} until {@link #release}, dropping its backoff and attempts: no
     * backoff's end resumes it meanwhile (a training job runs for its record).
     */
    public void hold(TopicPartition partition) {
        forget(List.of(partition));
        held.add(partition);
        consumer.pause(List.of(partition));
    }

    /** Ends {@link #hold}: resumes {@code partition} unless it backs off (then {@link #resumeDue} does). */
    public void release(TopicPartition partition) {
        held.remove(partition);
        if (!pausedUntil.containsKey(partition) && consumer.assignment().contains(partition)) {
            consumer.resume(List.of(partition));
        }
    }

    /** The partitions are revoked or lost: their hold, backoff and attempts are dropped. */
    public void forget(Collection<TopicPartition> partitions) {
        succeeded(partitions);
        held.removeAll(partitions);
        pausedUntil.keySet().removeAll(partitions);
        metrics.pausedNow(pausedUntil.size());
    }

    private static boolean overlaps(Collection<TopicPartition> a, Collection<TopicPartition> b) {
        for (TopicPartition tp : a) {
            if (b.contains(tp)) {
                return true;
            }
        }
        return false;
    }

    /** Seeks the partitions of {@code records} back to their first offsets, counting no attempt. */
    public void rewind(List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> records) {
        firstOffsets(records).forEach(consumer::seek);
    }

    /** The first offset, per partition, of {@code records}. */
    public static Map<TopicPartition, Long> firstOffsets(
            List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> records) {
        Map<TopicPartition, Long> first = new HashMap<>();
        for (var r : records) {
            first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
        }
        return first;
    }

    static String names(Collection<TopicPartition> partitions) {
        return partitions.stream().map(TopicPartition::toString).sorted().collect(Collectors.joining(","));
    }
}
