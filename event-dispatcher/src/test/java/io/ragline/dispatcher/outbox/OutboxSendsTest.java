package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.ProducerFencedException;
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

        /** With {@code cluster}'s partitions and leaders as its metadata. */
        Recording(Cluster cluster) {
            super(cluster, false, null, new ByteArraySerializer(), new ByteArraySerializer());
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
        try {
            p.throwAtFlush = new InterruptException(new InterruptedException());

            OutboxSends sending = OutboxSends.sendGroups(p, List.of(rows(1), rows(2)), "");

            assertThat(p.events).containsExactly("1", "flush");
            assertThat(sending.broken).isSameAs(p.throwAtFlush);
        } finally {
            Thread.interrupted(); // InterruptException set the flag
        }
    }

    /**
     * One producer ({@link OutboxPublisher#publish}): a fence that a send of the first leader's
     * group reports at the flush before the second leader's is thrown as a fence, as one found at
     * the commit is, so that the dispatcher stands by rather than start producers again.
     */
    @Test
    void aFenceFoundAtTheFlushBetweenTwoLeadersIsThrownAsAFence() throws Exception {
        Node one = new Node(1, "a", 1);
        Node two = new Node(2, "b", 2);
        Cluster cluster = new Cluster(
                "c",
                List.of(one, two),
                List.of(
                        new PartitionInfo("t", 0, one, new Node[] {one}, new Node[] {one}),
                        new PartitionInfo("t", 1, two, new Node[] {two}, new Node[] {two})),
                java.util.Set.of(),
                java.util.Set.of());
        String a = key(0);
        String b = key(1);
        Recording p = new Recording(cluster);
        OutboxPublisher publisher = new OutboxPublisher(
                id -> id.equals("fence") ? p : new Recording(cluster),
                "fence",
                1,
                "",
                new OutboxMetrics(new SimpleMeterRegistry()),
                true); // the others are only fenced
        try {
            // The first batch of a topic goes whole: its metadata is not known to be cached yet.
            assertThat(publisher
                            .publish(List.of(row(1, a), row(2, b)), () -> true)
                            .committed())
                    .isTrue();
            assertThat(p.events).containsExactly("1", "2", "flush");
            p.events.clear();
            p.failFirstPendingAtFlush = new ProducerFencedException("a newer leader");

            assertThatThrownBy(() -> publisher.publish(List.of(row(3, a), row(4, b), row(5, a)), () -> true))
                    .isInstanceOf(OutboxPublisher.FencedException.class);
            assertThat(p.events)
                    .as("the first leader's rows, the flush; nothing sent to the second")
                    .containsExactly("3", "5", "flush");
        } finally {
            publisher.close();
        }
    }

    /** A key that Kafka's partitioner puts on partition {@code partition} of 2. */
    private static String key(int partition) {
        for (int i = 0; ; i++) {
            String k = "k" + i;
            if (BuiltInPartitioner.partitionForKey(k.getBytes(StandardCharsets.UTF_8), 2) == partition) {
                return k;
            }
        }
    }

    private static OutboxRow row(long id, String key) {
        return new OutboxRow(id, "t", key, "{}", Map.of(), Instant.EPOCH, 0, 0);
    }
}
