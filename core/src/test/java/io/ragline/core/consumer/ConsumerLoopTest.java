package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.resilience.Backoff;
import io.ragline.testkit.MovableClock;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The poll loop against MockConsumer with a hand-moved clock: no broker, no database, no sleeps. */
class ConsumerLoopTest {
    static final String TOPIC = "documents";
    static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    static final TopicPartition P1 = new TopicPartition(TOPIC, 1);

    final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    final MovableClock clock = new MovableClock();
    final RecordingSink sink = new RecordingSink();
    final List<String> deadLetters = new ArrayList<>();
    final AtomicReference<Throwable> fatal = new AtomicReference<>();
    ConsumerLoop<String> loop;
    RecordDecoder<String> decoder = r -> {
        String v = text(r.value());
        if (v.startsWith("poison")) {
            throw new PoisonRecordException("not JSON");
        }
        return v;
    };
    DeadLetters dlq = (record, reason, attempts) ->
            deadLetters.add(text(record.value()) + "|" + reason.getClass().getSimpleName() + "|" + attempts);

    @BeforeEach
    void start() {
        loop = new ConsumerLoop<>(
                consumer,
                List.of(TOPIC),
                r -> decoder.decode(r),
                sink,
                (r, e, n) -> dlq.publish(r, e, n),
                FailurePolicy.defaults(),
                new ConsumerLoop.Settings(
                        Duration.ZERO,
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(1),
                        Backoff.of(Duration.ofSeconds(1), Duration.ofSeconds(1)),
                        3),
                clock,
                ConsumerMetrics.discarding(),
                fatal::set);
        loop.subscribe();
        consumer.rebalance(List.of(P0, P1));
        consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
    }

    @Test
    void aWrittenBatchCommitsLastOffsetPlusOnePerPartition() {
        add(P0, 0, "a");
        add(P0, 1, "b");
        add(P1, 0, "c");

        loop.pollOnce();

        assertThat(sink.written).containsExactlyInAnyOrder("a", "b", "c");
        assertThat(committed()).containsEntry(P0, 2L).containsEntry(P1, 1L);
    }

    @Test
    void aTransientFailureRewindsPausesAndResumesAfterTheBackoff() {
        add(P0, 0, "a");
        add(P0, 1, "b");
        sink.failNext(new SQLException("connection refused", "08001"));

        loop.pollOnce();

        assertThat(sink.written).isEmpty();
        assertThat(committed()).isEmpty();
        assertThat(consumer.paused()).containsExactlyInAnyOrder(P0, P1);
        assertThat(consumer.position(P0)).isZero();

        loop.pollOnce(); // the backoff has not passed: polling goes on, the partitions stay paused
        assertThat(consumer.paused()).containsExactlyInAnyOrder(P0, P1);
        assertThat(sink.calls).isEqualTo(1);

        clock.advance(Duration.ofMillis(1000));
        loop.pollOnce(); // resumes
        // MockConsumer forgets polled records; a broker delivers them again from the rewound position.
        add(P0, 0, "a");
        add(P0, 1, "b");
        loop.pollOnce();

        assertThat(consumer.paused()).isEmpty();
        assertThat(sink.written).containsExactly("a", "b");
        assertThat(committed()).containsEntry(P0, 2L);
    }

    @Test
    void poisonFromTheDecoderIsDeadLetteredAndTheRestIsWritten() {
        add(P0, 0, "a");
        add(P0, 1, "poison-1");
        add(P0, 2, "c");

        loop.pollOnce();

        assertThat(deadLetters).containsExactly("poison-1|PoisonRecordException|1");
        assertThat(sink.written).containsExactly("a", "c");
        assertThat(committed()).containsEntry(P0, 3L);
    }

    @Test
    void aRecordTheWriterNamesIsDeadLetteredAloneAndTheBatchIsWrittenWithoutIt() {
        add(P0, 0, "a");
        add(P0, 1, "refused");
        add(P0, 2, "c");
        sink.refuseNamed("refused");

        loop.pollOnce();

        assertThat(deadLetters).containsExactly("refused|PoisonRecordException|1");
        assertThat(sink.written).containsExactly("a", "c");
        assertThat(committed()).containsEntry(P0, 3L);
    }

    @Test
    void poisonTheWriterCannotNameIsIsolatedByWritingOneByOne() {
        add(P0, 0, "a");
        add(P0, 1, "constraint");
        add(P0, 2, "c");
        sink.refuseAnonymously("constraint");

        loop.pollOnce();

        assertThat(deadLetters).containsExactly("constraint|SQLException|1");
        assertThat(sink.written).containsExactly("a", "c");
        assertThat(committed()).containsEntry(P0, 3L);
    }

    @Test
    void anUnknownFailureIsRetriedThenItsRecordDeadLetteredAtTheLimit() {
        add(P0, 0, "a");
        add(P0, 1, "odd");
        sink.failWhenPresent("odd", new IllegalStateException("surprise"));

        for (int attempt = 1; attempt < 3; attempt++) {
            loop.pollOnce();
            assertThat(committed()).isEmpty();
            assertThat(consumer.position(P0)).isZero();
            clock.advance(Duration.ofMillis(1000));
            loop.pollOnce(); // resume
            add(P0, 0, "a"); // redelivered from the rewound position
            add(P0, 1, "odd");
        }
        loop.pollOnce(); // third attempt: one by one

        assertThat(deadLetters).containsExactly("odd|IllegalStateException|3");
        assertThat(sink.written).containsExactly("a");
        assertThat(committed()).containsEntry(P0, 2L);
    }

    @Test
    void aFatalFailureStopsTheLoopWithoutCommitting() {
        add(P0, 0, "a");
        sink.failNext(new SQLException("password authentication failed", "28P01"));

        try {
            loop.pollOnce();
        } catch (RuntimeException stop) {
            fatal.set(stop.getCause());
        }

        assertThat(fatal.get()).isInstanceOf(SQLException.class);
        assertThat(committed()).isEmpty();
    }

    @Test
    void aDeadLetterThatCannotBeSentRewindsTheBatch() {
        add(P0, 0, "poison-1");
        dlq = (record, reason, attempts) -> {
            throw new org.apache.kafka.common.errors.TimeoutException("broker down");
        };

        loop.pollOnce();

        assertThat(committed()).isEmpty();
        assertThat(consumer.paused()).contains(P0);
        assertThat(consumer.position(P0)).isZero();
    }

    @Test
    void aPoisonRecordIsDeadLetteredOnceThoughItsBatchIsRetriedAfterATransientFailure() {
        add(P0, 0, "a");
        add(P0, 1, "poison-1");
        add(P0, 2, "c");
        sink.failNext(new SQLException("connection refused", "08001"));

        loop.pollOnce(); // dead-letters poison-1, then the write fails: rewound
        for (int retry = 0; retry < 2; retry++) {
            assertThat(committed()).isEmpty();
            clock.advance(Duration.ofMillis(1000));
            loop.pollOnce(); // resume
            add(P0, 0, "a"); // redelivered from the rewound position
            add(P0, 1, "poison-1");
            add(P0, 2, "c");
            if (retry == 0) {
                sink.failNext(new SQLException("connection refused", "08001"));
            }
            loop.pollOnce();
        }

        assertThat(deadLetters).containsExactly("poison-1|PoisonRecordException|1");
        assertThat(sink.written).containsExactly("a", "c");
        assertThat(committed()).containsEntry(P0, 3L);
    }

    @Test
    void aRecordTheWriterRefusedIsNotWrittenOrDeadLetteredAgainWhenTheRestOfItsBatchIsRetried() {
        add(P0, 0, "a");
        add(P0, 1, "refused");
        add(P0, 2, "c");
        sink.refuseNamed("refused");
        sink.failOnCall(2, new SQLException("connection refused", "08001"));

        loop.pollOnce(); // call 1 names 'refused' (dead-lettered), call 2 fails: rewound
        clock.advance(Duration.ofMillis(1000));
        loop.pollOnce(); // resume
        add(P0, 0, "a");
        add(P0, 1, "refused");
        add(P0, 2, "c");
        loop.pollOnce();

        assertThat(deadLetters).containsExactly("refused|PoisonRecordException|1");
        assertThat(sink.written).containsExactly("a", "c");
        assertThat(committed()).containsEntry(P0, 3L);
    }

    @Test
    void anOffsetDeadLetteredBeforeItsPartitionWasRevokedIsDecidedAnewWhenItComesBack() {
        add(P0, 0, "poison-1");
        add(P1, 0, "b");
        sink.failNext(new SQLException("connection refused", "08001"));
        loop.pollOnce(); // poison-1 dead-lettered, batch rewound

        consumer.rebalance(List.of(P1)); // P0 goes to another consumer, which dead-letters it too
        consumer.rebalance(List.of(P0, P1));
        consumer.seek(P0, 0);
        clock.advance(Duration.ofMillis(1000));
        loop.pollOnce(); // resume
        add(P0, 0, "poison-1");
        loop.pollOnce();

        assertThat(deadLetters).hasSize(2);
        assertThat(committed()).containsEntry(P0, 1L);
    }

    @Test
    void partitionsAssignedWhileBackingOffArePausedToo() {
        add(P0, 0, "a");
        sink.failNext(new SQLException("connection refused", "08001"));
        loop.pollOnce();
        TopicPartition p2 = new TopicPartition(TOPIC, 2);
        consumer.updateBeginningOffsets(Map.of(p2, 0L));

        consumer.rebalance(List.of(P0, P1, p2));

        assertThat(consumer.paused()).contains(p2);
    }

    private void add(TopicPartition tp, long offset, String value) {
        consumer.addRecord(new ConsumerRecord<>(
                tp.topic(),
                tp.partition(),
                offset,
                ("k" + offset).getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8)));
    }

    private Map<TopicPartition, Long> committed() {
        Map<TopicPartition, Long> out = new HashMap<>();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e :
                consumer.committed(java.util.Set.of(P0, P1)).entrySet()) {
            if (e.getValue() != null) {
                out.put(e.getKey(), e.getValue().offset());
            }
        }
        return out;
    }

    static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** A sink that records what it wrote and fails on demand. */
    static final class RecordingSink implements BatchSink<String> {
        final List<String> written = new ArrayList<>();
        int calls;
        private Exception next;
        private String named;
        private String anonymous;
        private String failingValue;
        private Exception failingWith;
        private int failingCall;
        private Exception failingCallWith;

        void failNext(Exception e) {
            next = e;
        }

        /** Fails the {@code call}-th call (counting from 1) with {@code e}. */
        void failOnCall(int call, Exception e) {
            failingCall = call;
            failingCallWith = e;
        }

        void refuseNamed(String value) {
            named = value;
        }

        void refuseAnonymously(String value) {
            anonymous = value;
        }

        void failWhenPresent(String value, Exception e) {
            failingValue = value;
            failingWith = e;
        }

        @Override
        public void write(List<InboundRecord<String>> records, List<ConsumerRecord<byte[], byte[]>> consumed)
                throws Exception {
            calls++;
            if (calls == failingCall) {
                throw failingCallWith;
            }
            if (next != null) {
                Exception e = next;
                next = null;
                throw e;
            }
            for (InboundRecord<String> r : records) {
                if (r.value().equals(named)) {
                    throw new PoisonRecordException("refused by the database", r.raw(), null);
                }
                if (r.value().equals(anonymous)) {
                    throw new SQLException("new row violates check constraint", "23514");
                }
                if (r.value().equals(failingValue)) {
                    throw failingWith;
                }
            }
            records.forEach(r -> written.add(r.value()));
        }
    }
}
