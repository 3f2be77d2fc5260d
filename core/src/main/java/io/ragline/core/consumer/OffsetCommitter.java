package io.ragline.core.consumer;

import io.ragline.core.resilience.Backoff;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a loop's offsets to Kafka, synchronously, once what they cover is done, and sees that
 * Kafka's committed offset of every partition the loop keeps catches up with the work done, so
 * Kafka's lag never counts records already applied:
 *
 * <ul>
 *   <li>A commit Kafka refuses for a reason that passes (a rebalance under way: {@code
 *       RebalanceInProgressException}; the coordinator out of reach) is <em>owed</em>: remembered
 *       per partition, the newest offset winning, and committed again after a later poll while the
 *       partition stays assigned here: after the first poll once a rebalance completed, otherwise
 *       paced by the loop's {@link Backoff} (at most {@code RAGLINE_RETRY_BACKOFF_MAX} apart). A
 *       partition revoked or lost takes its owed offset with it; its next owner compares it anew.
 *   <li>Partitions assigned here are compared, inside the rebalance, with the offsets stored with
 *       the work ({@link StoredOffsets}: {@code consumer_offsets} for the batch loop): where the
 *       stored offset is ahead of Kafka's committed one (a commit refused before, or a process
 *       killed between the database commit and Kafka's), it is committed and the consumer reads
 *       on from there. When Postgres or Kafka do not answer then, the comparison is made again
 *       after a later poll, paced as above.
 *   <li>No commit moves a partition's offset back while it stays assigned here.
 * </ul>
 *
 * <p>A {@link WakeupException} ({@link LoopLifecycle#stop()} woke the consumer mid-commit) is
 * retried once, since the work is done and its offsets should move; a fatal failure stops the
 * loop. Counted in {@code ragline_consumer_offset_commits_total{outcome}} (per partition:
 * committed, refused, behind_stored, recommitted) and {@code ragline_consumer_offsets_owed}. Used
 * by the loop's thread only.
 */
public final class OffsetCommitter {
    private static final Logger log = LoggerFactory.getLogger(OffsetCommitter.class);

    /** Where a loop stores, with its work, the next offset to read of each partition. */
    @FunctionalInterface
    public interface StoredOffsets {
        /** A loop that stores no offsets of its own (Kafka's committed offsets are all there is). */
        StoredOffsets NONE = partitions -> Map.of();

        /** The stored next offset of each of {@code partitions} that has one. */
        Map<TopicPartition, Long> of(Collection<TopicPartition> partitions) throws Exception;
    }

    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final FailurePolicy policy;
    private final Duration timeout;
    private final Backoff backoff;
    private final Clock clock;
    private final ConsumerMetrics metrics;
    private final StoredOffsets stored;
    /** Offsets whose work is done and that Kafka has not taken yet, per assigned partition. */
    private final Map<TopicPartition, Long> owed = new HashMap<>();
    /** The highest offset Kafka took per partition since it was assigned here. */
    private final Map<TopicPartition, Long> floor = new HashMap<>();
    /** Assigned partitions not yet compared with their stored offsets (Postgres or Kafka did not answer). */
    private final Set<TopicPartition> unchecked = new HashSet<>();

    private int failedRetries;
    private Instant retryAt = Instant.MIN;

    /**
     * @param settings the loop's commit timeout and backoff (the pace of commits made again)
     * @param stored the offsets stored with the work, compared with Kafka's on assignment
     */
    public OffsetCommitter(
            org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
            FailurePolicy policy,
            ConsumerLoop.Settings settings,
            Clock clock,
            ConsumerMetrics metrics,
            StoredOffsets stored) {
        this.consumer = consumer;
        this.policy = policy;
        this.timeout = settings.commitTimeout();
        this.backoff = settings.backoff();
        this.clock = clock;
        this.metrics = metrics;
        this.stored = stored;
    }

    /**
     * Commits {@code nextOffsets} (per partition, the offset of the next record to read: the last
     * done + 1; never below what was committed or owed here); true when Kafka took them. Refused,
     * they are owed.
     *
     * @throws LoopFailure when the commit failed for a fatal reason
     */
    public boolean commit(Map<TopicPartition, Long> nextOffsets) {
        Map<TopicPartition, Long> offsets = new LinkedHashMap<>();
        nextOffsets.forEach((tp, next) ->
                offsets.put(tp, Math.max(next, Math.max(floor.getOrDefault(tp, next), owed.getOrDefault(tp, next)))));
        Optional<KafkaException> refused = send(offsets);
        if (refused.isEmpty()) {
            took(offsets);
            metrics.offsetCommits("committed", offsets.size());
            return true;
        }
        offsets.forEach((tp, next) -> owed.merge(tp, next, Math::max));
        metrics.offsetCommits("refused", offsets.size());
        metrics.owedNow(owed.size());
        deferRetry();
        log.warn(
                "offsets {} not committed to Kafka, committing them again after a later poll while assigned: {}",
                offsets,
                refused.get().toString());
        return false;
    }

    /**
     * A rebalance completed ({@code onPartitionsAssigned}, called for every completed rebalance,
     * {@code partitions} holding only the new ones, maybe none): what is owed goes after this
     * poll, and the new partitions are compared with their stored offsets now, before the consumer
     * takes its positions from Kafka's committed offsets (what they owe is committed at once).
     */
    public void assigned(Collection<TopicPartition> partitions) {
        failedRetries = 0;
        retryAt = Instant.MIN;
        if (partitions.isEmpty()) {
            return;
        }
        boolean compared = false;
        try {
            compared = catchUp(partitions);
            if (compared && !owed.isEmpty()) {
                commitOwed(); // refused or fatal: left owed, afterPoll (right after this poll) says which
            }
        } catch (WakeupException | InterruptException e) {
            unchecked.addAll(partitions);
            throw e;
        } catch (RuntimeException e) { // a fatal failure stops the loop from afterPoll, not from Kafka's callback
            log.warn("comparing {} with the offsets stored failed: {}", PauseSchedule.names(partitions), e.toString());
        }
        if (!compared) {
            unchecked.addAll(partitions);
        }
    }

    /**
     * After a poll: commits what is owed and compares the partitions not compared yet, when their
     * time has come; a partition no longer assigned is dropped.
     *
     * @throws LoopFailure when committing or comparing failed for a fatal reason
     */
    public void afterPoll() {
        if ((owed.isEmpty() && unchecked.isEmpty()) || clock.instant().isBefore(retryAt)) {
            return;
        }
        Set<TopicPartition> assigned = consumer.assignment();
        owed.keySet().retainAll(assigned);
        unchecked.retainAll(assigned);
        boolean settled = true;
        if (!unchecked.isEmpty()) {
            List<TopicPartition> partitions = List.copyOf(unchecked);
            settled = catchUp(partitions);
            if (settled) {
                unchecked.removeAll(partitions);
            }
        }
        settled = commitOwed() && settled;
        metrics.owedNow(owed.size());
        if (settled) {
            failedRetries = 0;
        } else {
            deferRetry();
        }
    }

    /** The partitions were revoked or lost: what they owed is their next owner's to compare. */
    public void forget(Collection<TopicPartition> partitions) {
        owed.keySet().removeAll(partitions);
        floor.keySet().removeAll(partitions);
        unchecked.removeAll(partitions);
        metrics.owedNow(owed.size());
    }

    /**
     * Compares {@code partitions} with their stored offsets; those Kafka has behind become owed and
     * the consumer is moved to them. False when Postgres or Kafka did not answer (logged).
     */
    private boolean catchUp(Collection<TopicPartition> partitions) {
        Map<TopicPartition, Long> done;
        try {
            done = stored.of(partitions);
        } catch (Exception e) {
            if (policy.classify(e) == FailureKind.FATAL) {
                throw new LoopFailure("reading the offsets stored with the work failed", e);
            }
            log.warn(
                    "offsets stored for {} not read, comparing them with Kafka's after a later poll: {}",
                    PauseSchedule.names(partitions),
                    e.toString());
            return false;
        }
        if (done.isEmpty()) {
            return true;
        }
        Map<TopicPartition, Long> ahead = new LinkedHashMap<>();
        Map<TopicPartition, Long> ends;
        Map<TopicPartition, OffsetAndMetadata> committed;
        try {
            committed = consumer.committed(done.keySet(), timeout);
            done.forEach((tp, next) -> {
                OffsetAndMetadata c = committed.get(tp);
                if (next > (c == null ? -1 : c.offset()) && next > floor.getOrDefault(tp, -1L)) {
                    ahead.put(tp, next);
                }
            });
            ends = ahead.isEmpty() ? Map.of() : consumer.endOffsets(ahead.keySet(), timeout);
        } catch (WakeupException | InterruptException e) {
            throw e;
        } catch (KafkaException e) {
            if (policy.classify(e) == FailureKind.FATAL) {
                throw new LoopFailure("reading committed offsets failed", e);
            }
            log.warn(
                    "Kafka's committed offsets of {} not read, comparing them after a later poll: {}",
                    PauseSchedule.names(partitions),
                    e.toString());
            return false;
        }
        ahead.forEach((tp, next) -> behind(tp, committed.get(tp), next, ends.get(tp)));
        metrics.owedNow(owed.size());
        return true;
    }

    private void behind(TopicPartition tp, OffsetAndMetadata committed, long next, Long end) {
        String kafkas = committed == null ? "none" : String.valueOf(committed.offset());
        if (end != null && next > end) {
            log.warn(
                    "{}: the offset stored with the work, {}, is past the partition's end, {}: was the topic made"
                            + " again? (docs/operations.md, Backup and restore). Kafka's committed offset stays {}",
                    tp,
                    next,
                    end,
                    kafkas);
            return;
        }
        log.info(
                "{}: Kafka's committed offset ({}) is behind {}, the offset stored with the work: committing {}"
                        + " and reading on from there",
                tp,
                kafkas,
                next,
                next);
        consumer.seek(tp, next); // what lies before was applied: not read again
        owed.merge(tp, next, Math::max);
        metrics.offsetCommits("behind_stored", 1);
    }

    /** Commits what is owed; true when nothing is owed any more. */
    private boolean commitOwed() {
        if (owed.isEmpty()) {
            return true;
        }
        Map<TopicPartition, Long> offsets = new LinkedHashMap<>(owed);
        Optional<KafkaException> refused = send(offsets);
        if (refused.isPresent()) {
            metrics.offsetCommits("refused", offsets.size());
            log.info(
                    "offsets {} still not committed to Kafka (attempt {}): {}",
                    offsets,
                    failedRetries + 1,
                    refused.get().toString());
            return false;
        }
        took(offsets);
        metrics.offsetCommits("recommitted", offsets.size());
        log.info("committed offsets {} to Kafka, which had not taken them before", offsets);
        return true;
    }

    private void took(Map<TopicPartition, Long> offsets) {
        offsets.forEach((tp, next) -> {
            floor.merge(tp, next, Math::max);
            owed.computeIfPresent(tp, (p, o) -> o <= next ? null : o);
        });
        metrics.owedNow(owed.size());
    }

    private void deferRetry() {
        failedRetries++;
        retryAt = clock.instant().plus(backoff.wait(failedRetries));
    }

    /** Commits {@code nextOffsets}; empty when Kafka took them, else why not (never fatal). */
    private Optional<KafkaException> send(Map<TopicPartition, Long> nextOffsets) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        nextOffsets.forEach((tp, next) -> offsets.put(tp, new OffsetAndMetadata(next)));
        for (int tries = 0; ; tries++) {
            try {
                consumer.commitSync(offsets, timeout);
                return Optional.empty();
            } catch (WakeupException e) {
                // stop() woke us while committing finished work: commit it anyway, once more.
                if (tries > 0) {
                    return Optional.of(e);
                }
            } catch (KafkaException e) {
                if (policy.classify(e) == FailureKind.FATAL) {
                    throw new LoopFailure("committing offsets failed", e);
                }
                return Optional.of(e);
            }
        }
    }
}
