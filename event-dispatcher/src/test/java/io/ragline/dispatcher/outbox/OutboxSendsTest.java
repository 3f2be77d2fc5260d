package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * A batch sent leader by leader ({@link OutboxSends#sendGroups}): each group but the last is
 * acknowledged before the next is sent, and the sends stop at the first failure, whether a group's
 * flush reports it through a callback or the flush itself throws. Kafka's MockProducer (sends left
 * pending until flushed) stands in for the broker; LeaderByLeaderIT checks the order of sends and
 * flushes against a real cluster.
 */
class OutboxSendsTest {
    /** Records each flush in {@code events} with the sends, as "flush"; the sends by outbox id. */
    static class Recording extends MockProducer<byte[], byte[]> {
        final java.util.List<String> events = new java.util.ArrayList<>();
        RuntimeException failFirstPendingAtFlush;
        RuntimeException throwAtFlush;

        Recording() {
            super(false, null, new ByteArraySerializer(), new ByteArraySerializer());
        }

        @Override
        public synchronized java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> send(
                ProducerRecord<byte[], byte[]> record, org.apache.kafka.clients.producer.Callback callback) {
            events.add(new String(
                    record.headers().lastHeader(OutboxPublisher.OUTBOX_ID).value(), StandardCharsets.UTF_8));
            return super.send(record, callback);
        }

        @Override
        public void flush() {
            events.add("flush");
            if (throwAtFlush != null) {
                throw throwAtFlush;
            }
            if (failFirstPendingAtFlush != null) {
                errorNext(failFirstPendingAtFlush);
            }
            super.flush();
        }
    }

    private static List<OutboxRow> rows(long... ids) {
        return java.util.Arrays.stream(ids)
                .mapToObj(id -> new OutboxRow(id, "t", "k" + id, "{}", Map.of(), Instant.EPOCH, 0, 0))
                .toList();
    }

    @Test
    void eachGroupButTheLastIsAcknowledgedBeforeTheNextIsSent() {
        Recording p = new Recording();

        OutboxSends sending = OutboxSends.sendGroups(p, List.of(rows(1, 2), rows(3), rows(4, 5)), "");

        assertThat(p.events).containsExactly("1", "2", "flush", "3", "flush", "4", "5");
        assertThat(sending.failure).isNull();
        assertThat(sending.broken).isNull();
        assertThat(sending.firstFailed.get()).isNull();
    }

    @Test
    void aSendOfAGroupThatFailedStopsTheSendsBeforeTheNextGroup() {
        Recording p = new Recording();
        RecordTooLargeException refused = new RecordTooLargeException("refused");
        p.failFirstPendingAtFlush = refused;

        OutboxSends sending = OutboxSends.sendGroups(p, List.of(rows(1, 2), rows(3)), "");

        assertThat(p.events).containsExactly("1", "2", "flush");
        assertThat(sending.failure).isSameAs(refused);
        assertThat(sending.firstFailed.get().id()).isEqualTo(1);
        assertThat(sending.broken).isNull();
    }

    @Test
    void aFlushThatThrowsLeavesTheProducerBrokenAndSendsNothingMore() {
        Recording p = new Recording();
        p.throwAtFlush = new InterruptException(new InterruptedException());

        OutboxSends sending = OutboxSends.sendGroups(p, List.of(rows(1), rows(2)), "");

        assertThat(p.events).containsExactly("1", "flush");
        assertThat(sending.broken).isSameAs(p.throwAtFlush);
        Thread.interrupted(); // InterruptException set the flag
    }
}
