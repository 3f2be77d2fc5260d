package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;

/**
 * A staged batch that grows while the batch before it commits ({@link OutboxPublisher#topUp}):
 * its new rows go into the same open transaction behind its first ones, one commit for all; a
 * new row whose send fails leaves the whole batch unsent, its transaction aborted; a fence is
 * thrown; a dispatcher no longer leading sends nothing more. Kafka's MockProducer stands in for
 * the broker; the order a {@code read_committed} consumer sees is checked against a real broker
 * in OverlappedCommitsIT.
 */
class OutboxPublisherTopUpTest {
    private final Map<String, MockProducer<byte[], byte[]>> made = new HashMap<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private OutboxPublisher publisher() {
        return MockPublishers.publisher(made, 2, registry);
    }

    private static List<OutboxRow> rows(long... ids) {
        return java.util.Arrays.stream(ids)
                .mapToObj(id -> new OutboxRow(id, "t", "k", "{}", Map.of(), Instant.EPOCH, 0, System.nanoTime()))
                .toList();
    }

    private static List<String> outboxIds(List<ProducerRecord<byte[], byte[]>> records) {
        return records.stream()
                .map(r -> new String(
                        r.headers().lastHeader(OutboxPublisher.OUTBOX_ID).value(), StandardCharsets.UTF_8))
                .toList();
    }

    private double toppedUp() {
        return registry.get("ragline.outbox.topped.up").counter().count();
    }

    @Test
    void rowsSentIntoAStagedBatchAreCommittedWithItInOneTransactionBehindItsRows() throws Exception {
        OutboxPublisher publisher = publisher();
        OutboxPublisher.Staged staged = publisher.stage(1, rows(1, 2), () -> true);
        MockProducer<byte[], byte[]> p = made.get("ragline-outbox-s-1");

        OutboxPublisher.Staged grown = publisher.topUp(staged, rows(3), () -> true);
        grown = publisher.topUp(grown, rows(4, 5), () -> true);

        assertThat(grown.sent()).isTrue();
        assertThat(grown.rows()).extracting(OutboxRow::id).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(p.transactionInFlight())
                .as("still open: its commit is asked for after N's")
                .isTrue();
        assertThat(outboxIds(p.uncommittedRecords())).containsExactly("1", "2", "3", "4", "5");
        assertThat(toppedUp()).isEqualTo(3);
        assertThat(publisher
                        .commitLater(grown, () -> true)
                        .get(10, TimeUnit.SECONDS)
                        .committed())
                .isTrue();
        assertThat(p.commitCount()).isEqualTo(1);
        assertThat(outboxIds(p.history())).containsExactly("1", "2", "3", "4", "5");
    }

    @Test
    void aNewRowWhoseSendFailsLeavesTheWholeBatchUnsentAndItsTransactionAborted() throws Exception {
        OutboxPublisher publisher = publisher();
        OutboxPublisher.Staged staged = publisher.stage(0, rows(1, 2), () -> true);
        MockProducer<byte[], byte[]> p = made.get("ragline-outbox-s");
        p.sendException = new RecordTooLargeException("row 3 is too large");

        OutboxPublisher.Staged grown = publisher.topUp(staged, rows(3, 4), () -> true);

        assertThat(grown.sent()).isFalse();
        assertThat(grown.rows()).extracting(OutboxRow::id).containsExactly(1L, 2L, 3L, 4L);
        assertThat(grown.failure().failedRow().id()).isEqualTo(3L);
        assertThat(grown.failure().failure()).isInstanceOf(RecordTooLargeException.class);
        assertThat(p.transactionAborted()).isTrue();
        assertThat(p.commitCount()).isZero();
        assertThat(toppedUp()).isZero();
    }

    @Test
    void aFenceOnANewRowsSendIsThrown() throws Exception {
        OutboxPublisher publisher = publisher();
        OutboxPublisher.Staged staged = publisher.stage(0, rows(1), () -> true);
        made.get("ragline-outbox-s").sendException = new ProducerFencedException("a newer leader");

        assertThatThrownBy(() -> publisher.topUp(staged, rows(2), () -> true))
                .isInstanceOf(OutboxPublisher.FencedException.class);
    }

    @Test
    void aDispatcherNoLongerLeadingSendsNothingMore() throws Exception {
        OutboxPublisher publisher = publisher();
        OutboxPublisher.Staged staged = publisher.stage(0, rows(1), () -> true);
        MockProducer<byte[], byte[]> p = made.get("ragline-outbox-s");

        OutboxPublisher.Staged same = publisher.topUp(staged, rows(2), () -> false);

        assertThat(same).isSameAs(staged);
        assertThat(p.uncommittedRecords()).hasSize(1);
        assertThat(publisher
                        .commitLater(same, () -> false)
                        .get(10, TimeUnit.SECONDS)
                        .outcome())
                .isEqualTo(OutboxPublisher.Outcome.NOT_LEADING);
        assertThat(p.transactionAborted()).isTrue();
    }
}
