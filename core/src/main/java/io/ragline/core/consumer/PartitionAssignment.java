package io.ragline.core.consumer;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A poll loop's rebalance bookkeeping: which partitions it owns, and what a revoked or lost
 * partition takes with it (its backoff, its attempts, its dead-letter memory, its owed offset
 * commit: the next owner starts from the committed offset, or the stored one where that is ahead,
 * and decides anew). Every completed rebalance goes to the {@link OffsetCommitter}, which compares
 * new partitions with their stored offsets and commits what is owed. Loops add what else they do
 * with {@link #whenAssigned} and {@link #whenRevoked}. Kafka calls it on the loop's thread, inside
 * {@code poll}.
 */
public final class PartitionAssignment implements ConsumerRebalanceListener {
    private static final Logger log = LoggerFactory.getLogger(PartitionAssignment.class);

    private final PauseSchedule schedule;
    private final DeadLetterBook deadLetters;
    private final OffsetCommitter committer;
    private final Set<TopicPartition> owned = new HashSet<>();
    private Consumer<Collection<TopicPartition>> whenAssigned = partitions -> {};
    private Consumer<Collection<TopicPartition>> whenRevoked = partitions -> {};
    private Consumer<Collection<TopicPartition>> beforeRelease = partitions -> {};

    public PartitionAssignment(PauseSchedule schedule, DeadLetterBook deadLetters, OffsetCommitter committer) {
        this.schedule = schedule;
        this.deadLetters = deadLetters;
        this.committer = committer;
    }

    /** Also runs {@code hook} with newly assigned partitions (never empty). */
    public PartitionAssignment whenAssigned(Consumer<Collection<TopicPartition>> hook) {
        this.whenAssigned = hook;
        return this;
    }

    /** Also runs {@code hook} with partitions revoked or lost (never empty), after the bookkeeping. */
    public PartitionAssignment whenRevoked(Consumer<Collection<TopicPartition>> hook) {
        this.whenRevoked = hook;
        return this;
    }

    /**
     * Also runs {@code hook} with partitions revoked or lost (never empty), before the bookkeeping:
     * the batch loop waits there for its write in flight ({@link OverlappedWrites#release}).
     */
    public PartitionAssignment beforeRelease(Consumer<Collection<TopicPartition>> hook) {
        this.beforeRelease = hook;
        return this;
    }

    /** True while {@code partition} is this loop's. */
    public boolean owns(TopicPartition partition) {
        return owned.contains(partition);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        log.info("revoked partitions {}", PauseSchedule.names(partitions));
        release(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        if (!partitions.isEmpty()) {
            log.info("assigned partitions {}", PauseSchedule.names(partitions));
            owned.addAll(partitions);
        }
        // Called after every completed rebalance, with no partition when none is new.
        committer.assigned(partitions);
        if (!partitions.isEmpty()) {
            whenAssigned.accept(partitions);
        }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
        log.warn(
                "lost partitions {} (session expired); what was not committed will be redelivered",
                PauseSchedule.names(partitions));
        release(partitions);
    }

    private void release(Collection<TopicPartition> partitions) {
        beforeRelease.accept(partitions);
        owned.removeAll(partitions);
        schedule.forget(partitions);
        deadLetters.forget(partitions);
        committer.forget(partitions);
        whenRevoked.accept(partitions);
    }
}
