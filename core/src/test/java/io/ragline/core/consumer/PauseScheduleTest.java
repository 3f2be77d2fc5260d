package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.resilience.Backoff;
import io.ragline.testkit.MovableClock;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The one owner of a loop's pauses, against MockConsumer with a hand-moved clock. */
class PauseScheduleTest {
    static final TopicPartition P0 = new TopicPartition("training", 0);
    static final TopicPartition P1 = new TopicPartition("training", 1);

    final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    final MovableClock clock = new MovableClock();
    final PauseSchedule schedule = new PauseSchedule(
            consumer, Backoff.of(Duration.ofSeconds(1), Duration.ofSeconds(1)), clock, ConsumerMetrics.discarding());

    @BeforeEach
    void assign() {
        consumer.assign(List.of(P0, P1));
        consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
    }

    @Test
    void aHeldPartitionIsNotResumedWhenABackoffThatPausedItEndsButWhenItIsReleased() {
        schedule.hold(P0);
        schedule.backOff(Map.of(P1, 0L), List.of(P0, P1), new SQLException("down", "08001"), FailureKind.TRANSIENT);

        clock.advance(Duration.ofSeconds(2));
        schedule.resumeDue();

        assertThat(consumer.paused()).containsExactly(P0);
        schedule.release(P0);
        assertThat(consumer.paused()).isEmpty();
    }

    @Test
    void aPartitionReleasedWhileItBacksOffWaitsForTheBackoff() {
        schedule.hold(P0);
        schedule.backOff(Map.of(P0, 0L), List.of(P0), new SQLException("down", "08001"), FailureKind.TRANSIENT);
        schedule.release(P0);

        assertThat(consumer.paused()).containsExactly(P0);
        clock.advance(Duration.ofSeconds(2));
        schedule.resumeDue();
        assertThat(consumer.paused()).isEmpty();
    }

    @Test
    void holdingAPartitionDropsItsPendingBackoff() {
        schedule.backOff(Map.of(P0, 0L), List.of(P0), new SQLException("down", "08001"), FailureKind.TRANSIENT);
        schedule.hold(P0);

        clock.advance(Duration.ofSeconds(2));
        assertThat(schedule.resumeDue()).isEmpty();
        assertThat(schedule.isBackingOff()).isFalse();
        assertThat(consumer.paused()).containsExactly(P0);
    }
}
