package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.ragline.core.resilience.Backoff;
import io.ragline.testkit.MovableClock;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The batch loop's overlapped writes against MockConsumer, where a rebalance can be made to happen
 * inside the poll that follows a write's start: the bookkeeping, step by step. The guarantees
 * themselves are tested against real Postgres and Kafka in {@link OverlappedWritesIT}.
 */
class OverlappedWritesTest {
    static final String TOPIC = "documents";
    static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    static final TopicPartition P1 = new TopicPartition(TOPIC, 1);

    final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    final List<String> written = Collections.synchronizedList(new ArrayList<>());
    final Queue<Exception> failures = new ConcurrentLinkedQueue<>();
    final AtomicInteger discarded = new AtomicInteger();
    final AtomicReference<Throwable> fatal = new AtomicReference<>();
    /** Prepares refused, as a half-open circuit breaker refuses a call beyond its trial ones. */
    final Queue<Exception> refusedPrepares = new ConcurrentLinkedQueue<>();

    ConsumerLoop<String> loop;

    @BeforeEach
    void start() {
        BatchSink<String> sink = new BatchSink<>() {
            @Override
            public void write(List<InboundRecord<String>> records, List<ConsumerRecord<byte[], byte[]>> consumed)
                    throws Exception {
                prepare(records, consumed).write();
            }

            @Override
            public PreparedWrite prepare(
                    List<InboundRecord<String>> records, List<ConsumerRecord<byte[], byte[]>> consumed)
                    throws Exception {
                Exception refused = refusedPrepares.poll();
                if (refused != null) {
                    throw refused;
                }
                return new PreparedWrite() {
                    @Override
                    public void write() throws Exception {
                        Exception failure = failures.poll();
                        if (failure != null) {
                            throw failure;
                        }
                        records.forEach(r -> written.add(r.value()));
                    }

                    @Override
                    public void discard() {
                        discarded.incrementAndGet();
                    }
                };
            }
        };
        loop = new ConsumerLoop<>(
                consumer,
                List.of(TOPIC),
                r -> new String(r.value(), StandardCharsets.UTF_8),
                sink,
                (r, e, n) -> {
                    throw new AssertionError("no dead letter expected");
                },
                FailurePolicy.defaults(),
                new ConsumerLoop.Settings(
                        Duration.ZERO,
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(1),
                        Backoff.of(Duration.ofSeconds(1), Duration.ofSeconds(1)),
                        3),
                new MovableClock(),
                ConsumerMetrics.discarding(),
                fatal::set,
                "overlapped-writes-test-writer");
        loop.subscribe();
        consumer.rebalance(List.of(P0, P1));
        consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
    }

    @Test
    void aCommittedWriteIsCommittedToKafkaWhenTheNextBatchIsPrepared() {
        add(P0, 0, "a");
        loop.pollOnce(); // a's write starts
        add(P1, 0, "b");

        loop.pollOnce(); // b prepared; a settled; b's write starts

        assertThat(written).contains("a");
        assertThat(consumer.committed(java.util.Set.of(P0)).get(P0).offset()).isEqualTo(1L);
        loop.pollOnce(); // nothing polled: b settled
        assertThat(written).containsExactly("a", "b");
        assertThat(consumer.committed(java.util.Set.of(P1)).get(P1).offset()).isEqualTo(1L);
    }

    @Test
    void aFailedWriteDiscardsTheBatchPreparedAfterItAndRewindsBoth() {
        add(P0, 0, "a");
        add(P0, 1, "b");
        failures.add(new SQLException("connection reset", "08006"));
        loop.pollOnce(); // a and b's write starts, and fails
        add(P1, 0, "c");

        loop.pollOnce(); // c prepared, then discarded

        assertThat(discarded).hasValue(1);
        assertThat(written).isEmpty();
        assertThat(consumer.position(P0)).isZero();
        assertThat(consumer.position(P1)).isZero();
        assertThat(consumer.paused()).containsExactlyInAnyOrder(P0, P1);
        assertThat(consumer.committed(java.util.Set.of(P0, P1)))
                .allSatisfy((tp, o) -> assertThat(o).isNull());
    }

    @Test
    void aPartitionRevokedWhileItsWriteRunsIsLeftOutWhenTheFailedWriteIsRewound() {
        add(P0, 0, "a");
        add(P1, 0, "b");
        failures.add(new SQLException("connection reset", "08006"));
        loop.pollOnce(); // a and b's write starts, and fails
        consumer.schedulePollTask(() -> consumer.rebalance(List.of(P1))); // P0 revoked inside the next poll

        loop.pollOnce();

        assertThat(fatal).hasNullValue();
        assertThat(consumer.assignment()).containsExactly(P1);
        assertThat(consumer.position(P1)).as("the partition kept is rewound").isZero();
        assertThat(consumer.paused()).containsExactly(P1);
    }

    @Test
    void aPrepareRefusedByAHalfOpenBreakerBehindAWriteThatCommittedIsWrittenAfreshNotBackedOff() {
        add(P0, 0, "a");
        loop.pollOnce(); // a's write starts: it holds the half-open breaker's trial call
        add(P1, 0, "b");
        refusedPrepares.add(
                CallNotPermittedException.createCallNotPermittedException(CircuitBreaker.ofDefaults("half-open")));

        loop.pollOnce(); // b's prepare refused; a committed (closing the breaker); b written afresh

        assertThat(written).containsExactly("a", "b");
        assertThat(consumer.paused())
                .as("no backoff for a refusal the write before it cured")
                .isEmpty();
        assertThat(consumer.committed(java.util.Set.of(P1)).get(P1).offset()).isEqualTo(1L);
    }

    @Test
    void aPrepareRefusedWithNoWriteInFlightIsAFailureAsBefore() {
        add(P0, 0, "a");
        refusedPrepares.add(
                CallNotPermittedException.createCallNotPermittedException(CircuitBreaker.ofDefaults("open")));

        loop.pollOnce();

        assertThat(written).isEmpty();
        assertThat(consumer.paused()).as("backed off: the breaker is open").containsExactlyInAnyOrder(P0, P1);
    }

    private void add(TopicPartition tp, long offset, String value) {
        consumer.addRecord(new ConsumerRecord<>(
                tp.topic(),
                tp.partition(),
                offset,
                ("key-" + value).getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8)));
    }
}
