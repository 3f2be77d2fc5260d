package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.dispatcher.outbox.RowFaults.Fault;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;

class RowFaultsTest {
    private static final OutboxRow ROW = new OutboxRow(1, "orders", "k", "{}", Map.of(), Instant.EPOCH, 0, 0);

    @Test
    void aRecordTooLargeIsTheRowsOwnFaultEvenWrappedInATransactionError() {
        RowFaults faults = new RowFaults(topic -> true, "");

        assertThat(faults.classify(ROW, new KafkaException("abortable", new RecordTooLargeException("2 MB"))))
                .isEqualTo(Fault.ROW);
    }

    @Test
    void anInvalidForbiddenOrUnknownTopicIsTheTopicsFault() {
        RowFaults faults = new RowFaults(topic -> true, "");

        assertThat(faults.classify(ROW, new InvalidTopicException("Invalid topics: [bad topic!]")))
                .isEqualTo(Fault.TOPIC);
        assertThat(faults.classify(ROW, new KafkaException("abortable", new TopicAuthorizationException("orders"))))
                .isEqualTo(Fault.TOPIC);
        assertThat(faults.classify(ROW, new UnknownTopicOrPartitionException("orders")))
                .isEqualTo(Fault.MISSING_TOPIC);
    }

    @Test
    void aBrokerThatIsDownOrBusyNeverCountsAgainstARow() {
        RowFaults faults = new RowFaults(topic -> null, "");

        assertThat(faults.classify(ROW, new TimeoutException("Expiring 5 record(s) for orders-0")))
                .isEqualTo(Fault.KAFKA);
        assertThat(faults.classify(ROW, new NotLeaderOrFollowerException("moving")))
                .isEqualTo(Fault.KAFKA);
        assertThat(faults.classify(ROW, new TimeoutException("Topic orders not present in metadata after 10000 ms.")))
                .as("the cluster could not be asked")
                .isEqualTo(Fault.KAFKA);
    }

    @Test
    void aMetadataTimeoutCountsOnlyWhenTheClusterSaysTheTopicIsMissing() {
        List<String> asked = new ArrayList<>();
        RowFaults missing = new RowFaults(
                topic -> {
                    asked.add(topic);
                    return false;
                },
                "prod.");
        RowFaults present = new RowFaults(topic -> true, "prod.");
        TimeoutException timeout = new TimeoutException("Topic prod.orders not present in metadata after 10000 ms.");

        assertThat(missing.classify(ROW, timeout)).isEqualTo(Fault.MISSING_TOPIC);
        assertThat(asked).containsExactly("prod.orders");
        assertThat(present.classify(ROW, timeout)).isEqualTo(Fault.KAFKA);
    }

    @Test
    void heldKeysWaitLongerAfterEachAttemptUpToAMinute() {
        // 1 s, doubling, at most a minute, each with ±50 % jitter (the one Backoff).
        assertThat(OutboxHolds.backoff(0)).isBetween(Duration.ofMillis(500), Duration.ofMillis(1500));
        assertThat(OutboxHolds.backoff(1)).isBetween(Duration.ofMillis(500), Duration.ofMillis(1500));
        assertThat(OutboxHolds.backoff(3)).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(6));
        assertThat(OutboxHolds.backoff(50)).isBetween(Duration.ofSeconds(30), Duration.ofMinutes(1));
    }

    @Test
    void aKeylessRowIsHeldAloneAndAKeyedRowHoldsItsKey() {
        OutboxHolds holds = new OutboxHolds();
        OutboxRow keyless = new OutboxRow(7, "orders", null, "{}", Map.of(), Instant.EPOCH, 0, 0);
        holds.hold(ROW, 100);
        holds.hold(keyless, 200);

        assertThat(holds.keys()).containsExactly(ROW.orderKey());
        assertThat(holds.ids()).containsExactly(7L);
        holds.expire(150);
        assertThat(holds.keys()).isEmpty();
        assertThat(holds.ids()).containsExactly(7L);
    }

    @Test
    void aHeldTopicWaitsUntilItsDeadline() {
        OutboxHolds holds = new OutboxHolds();
        holds.holdTopic("orders", 100);

        assertThat(holds.topics()).containsExactly("orders");
        holds.expire(99);
        assertThat(holds.topics()).containsExactly("orders");
        holds.expire(100);
        assertThat(holds.topics()).isEmpty();
    }
}
