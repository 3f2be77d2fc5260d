package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.core.resilience.Backoff;
import io.ragline.testkit.MovableClock;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The commit rules of {@link OffsetCommitter} against MockConsumer with a hand-moved clock; the
 * same against a real broker and a real rebalance: {@code OffsetCommitCatchUpIT}.
 */
class OffsetCommitterTest {
    static final TopicPartition P0 = new TopicPartition("embedding-requests", 0);
    static final TopicPartition P1 = new TopicPartition("embedding-requests", 1);
    static final Duration BACKOFF = Duration.ofSeconds(1);

    final RebalancingConsumer consumer = new RebalancingConsumer();
    final MovableClock clock = new MovableClock();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final Map<TopicPartition, Long> stored = new HashMap<>();
    Exception storeFailure;
    OffsetCommitter committer;

    /** A consumer whose next {@code refusals} commits fail as they do while a rebalance is under way. */
    static final class RebalancingConsumer extends MockConsumer<byte[], byte[]> {
        int refusals;
        int commits;

        RebalancingConsumer() {
            super("earliest");
        }

        @Override
        public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
            commits++;
            if (refusals > 0) {
                refusals--;
                throw new RebalanceInProgressException("Offset commit cannot be completed since the consumer is"
                        + " undergoing a rebalance for auto partition assignment");
            }
            super.commitSync(offsets, timeout);
        }
    }

    @BeforeEach
    void start() {
        consumer.assign(List.of(P0, P1));
        consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
        consumer.updateEndOffsets(Map.of(P0, 300L, P1, 300L));
        ConsumerLoop.Settings settings = new ConsumerLoop.Settings(
                Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1), Backoff.of(BACKOFF, BACKOFF), 3);
        committer = new OffsetCommitter(
                consumer,
                FailurePolicy.defaults(),
                settings,
                clock,
                new ConsumerMetrics(registry, "test"),
                partitions -> {
                    if (storeFailure != null) {
                        throw storeFailure;
                    }
                    Map<TopicPartition, Long> found = new HashMap<>(stored);
                    found.keySet().retainAll(partitions);
                    return found;
                });
    }

    @Test
    void anOffsetRefusedDuringARebalanceIsCommittedAfterThePollThatEndsTheRebalanceThoughNoRecordCame() {
        consumer.refusals = 1;

        assertThat(committer.commit(Map.of(P0, 241L))).isFalse();
        committer.afterPoll(); // the rebalance is still under way: its retry waits for the backoff
        assertThat(committed(P0)).isNull();
        committer.assigned(List.of()); // the rebalance completed, P0 kept
        committer.afterPoll();

        assertThat(committed(P0)).isEqualTo(241L);
        assertThat(count("refused")).isEqualTo(1.0);
        assertThat(count("recommitted")).isEqualTo(1.0);
        assertThat(owed()).isZero();
    }

    @Test
    void anOwedOffsetIsCommittedAgainOnceItsBackoffPassedWhileTheRebalanceGoesOnAndEnds() {
        consumer.refusals = 2;

        committer.commit(Map.of(P0, 241L));
        assertThat(owed()).isEqualTo(1);
        clock.advance(BACKOFF.multipliedBy(2));
        committer.afterPoll(); // refused again
        committer.afterPoll(); // too early
        assertThat(consumer.commits).isEqualTo(2);
        clock.advance(BACKOFF.multipliedBy(2));
        committer.afterPoll();

        assertThat(committed(P0)).isEqualTo(241L);
        assertThat(count("refused")).isEqualTo(2.0);
    }

    @Test
    void theNewestOwedOffsetOfAPartitionWins() {
        consumer.refusals = 2;

        committer.commit(Map.of(P0, 241L, P1, 10L));
        committer.commit(Map.of(P0, 250L));
        committer.assigned(List.of());
        committer.afterPoll();

        assertThat(committed(P0)).isEqualTo(250L);
        assertThat(committed(P1)).isEqualTo(10L);
    }

    @Test
    void anOwedOffsetGoesWithItsPartitionWhenItIsRevokedOrNoLongerAssigned() {
        consumer.refusals = 1;

        committer.commit(Map.of(P0, 241L, P1, 17L));
        committer.forget(List.of(P1)); // revoked: its next owner compares it with the stored offset
        consumer.assign(List.of(P1)); // P0 went elsewhere without a callback here
        committer.assigned(List.of());
        committer.afterPoll();

        assertThat(consumer.commits).as("only the refused commit").isEqualTo(1);
        assertThat(owed()).isZero();
    }

    @Test
    void aBatchCommittedAfterARefusalTakesTheOwedOffsetWithIt() {
        consumer.refusals = 1;

        committer.commit(Map.of(P0, 241L));
        assertThat(committer.commit(Map.of(P0, 260L))).isTrue();
        committer.assigned(List.of());
        committer.afterPoll();

        assertThat(committed(P0)).isEqualTo(260L);
        assertThat(consumer.commits).isEqualTo(2);
        assertThat(owed()).isZero();
    }

    @Test
    void aPartitionAssignedWhoseStoredOffsetIsAheadOfKafkasIsCommittedThereAndReadFromThere() {
        consumer.commitSync(Map.of(P0, new OffsetAndMetadata(228L)));
        stored.put(P0, 241L);
        stored.put(P1, 5L); // nothing committed in Kafka for P1 yet

        committer.assigned(List.of(P0, P1));

        assertThat(committed(P0)).isEqualTo(241L);
        assertThat(committed(P1)).isEqualTo(5L);
        assertThat(consumer.position(P0)).isEqualTo(241L);
        assertThat(count("behind_stored")).isEqualTo(2.0);
        assertThat(count("recommitted")).isEqualTo(2.0);
    }

    @Test
    void aStoredOffsetNotAheadOfKafkasChangesNothing() {
        consumer.commitSync(Map.of(P0, new OffsetAndMetadata(241L)));
        int before = consumer.commits;
        stored.put(P0, 241L);

        committer.assigned(List.of(P0));

        assertThat(consumer.commits).isEqualTo(before);
        assertThat(count("behind_stored")).isZero();
    }

    @Test
    void aStoredOffsetPastThePartitionsEndIsNotCommitted() {
        stored.put(P0, 5000L); // the topic was made again; consumer_offsets remembers the old one

        committer.assigned(List.of(P0));

        assertThat(committed(P0)).isNull();
        assertThat(owed()).isZero();
    }

    @Test
    void aPartitionWhoseStoredOffsetCouldNotBeReadAtAssignmentIsComparedAfterALaterPoll() {
        stored.put(P0, 241L);
        storeFailure = new SQLException("connection refused", "08001");

        committer.assigned(List.of(P0));
        assertThat(committed(P0)).isNull();
        storeFailure = null;
        committer.afterPoll();

        assertThat(committed(P0)).isEqualTo(241L);
    }

    @Test
    void noCommitMovesAPartitionsOffsetBackWhileItIsAssignedHere() {
        stored.put(P0, 241L);
        committer.assigned(List.of(P0));

        committer.commit(Map.of(P0, 235L)); // a batch redelivered from below the stored offset

        assertThat(committed(P0)).isEqualTo(241L);
    }

    @Test
    void aFatalFailureReadingTheStoredOffsetsStopsTheLoopAfterThePollNotInsideKafkasCallback() {
        storeFailure = new SQLException("permission denied for table consumer_offsets", "42501");
        stored.put(P0, 241L);

        committer.assigned(List.of(P0));

        assertThatThrownBy(committer::afterPoll).isInstanceOf(LoopFailure.class);
    }

    @Test
    void aFatalCommitFailureStopsTheLoop() {
        MockConsumer<byte[], byte[]> refusing = new MockConsumer<>("earliest") {
            @Override
            public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
                throw new TopicAuthorizationException(Set.of(P0.topic()));
            }
        };
        OffsetCommitter c = new OffsetCommitter(
                refusing,
                FailurePolicy.defaults(),
                ConsumerLoop.Settings.of(BACKOFF, BACKOFF, 3),
                clock,
                ConsumerMetrics.discarding(),
                OffsetCommitter.StoredOffsets.NONE);

        assertThatThrownBy(() -> c.commit(Map.of(P0, 1L))).isInstanceOf(LoopFailure.class);
    }

    private Long committed(TopicPartition tp) {
        OffsetAndMetadata o = consumer.committed(Set.of(tp)).get(tp);
        return o == null ? null : o.offset();
    }

    private double count(String outcome) {
        var counter = registry.find("ragline.consumer.offset.commits")
                .tag("outcome", outcome)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    private int owed() {
        return (int) registry.get("ragline.consumer.offsets.owed").gauge().value();
    }
}
