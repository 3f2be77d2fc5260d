package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Overlapped writes ({@link OverlappedWrites}) against real Postgres and a real broker: batch N's
 * transaction runs on the loop's writer thread while the consumer thread polls and prepares N+1.
 * Each test checks that the overlap happened (a prepare ran while a transaction did) and what a
 * user cares about: every record applied once, Kafka never ahead of Postgres.
 */
class OverlappedWritesIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema();

    static final Duration WAIT = Duration.ofSeconds(120);
    static Admin admin;

    @BeforeAll
    static void start() throws SQLException {
        AppliedTable.create(db);
        admin = Admin.create(Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()));
    }

    @AfterAll
    static void stop() {
        if (admin != null) {
            admin.close();
        }
    }

    @Test
    void eachTransactionStartsAfterThePreviousCommittedAndKafkaNeverGetsAheadOfPostgres() throws Exception {
        String topic = KafkaTopics.create("overlaporder", 3);
        String group = "order-" + UUID.randomUUID();
        KafkaTopics.produce(topic, 300, i -> "value-" + i);
        try (TrackedBatches batches = new TrackedBatches(db, 20)) {
            batches.step((records, c) -> {
                Map<TopicPartition, Long> stored = stored(c, group, topic);
                Map<TopicPartition, Long> first = new HashMap<>();
                records.forEach(r -> first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min));
                first.forEach((tp, offset) -> {
                    if (offset != stored.getOrDefault(tp, 0L)) {
                        batches.violations.add(tp + ": batch starts at " + offset + ", stored " + stored.get(tp));
                    }
                });
                kafkaCommitted(group).forEach((tp, offset) -> {
                    if (offset > stored.getOrDefault(tp, 0L)) {
                        batches.violations.add(tp + ": Kafka at " + offset + ", Postgres at " + stored.get(tp));
                    }
                });
                Thread.sleep(20); // a write long enough to overlap
            });
            runUntilDone(batches.loop(topic, group, 10), topic, group, 300, batches);

            assertThat(batches.violations).isEmpty();
            assertThat(batches.mostAtOnce).as("transactions at once").hasValue(1);
            assertThat(batches.preparedWhileWriting)
                    .as("prepares while a transaction ran")
                    .hasPositiveValue();
            assertThat(batches.preparedAgain()).isEmpty();
        }
    }

    @Test
    void aTransactionKilledWhileTheNextBatchWasPreparedIsWrittenAgainWithItAndEveryRecordOnce() throws Exception {
        String topic = KafkaTopics.create("overlapkill", 3);
        String group = "kill-" + UUID.randomUUID();
        KafkaTopics.produce(topic, 300, i -> "value-" + i);
        Set<String> killed = ConcurrentHashMap.newKeySet();
        try (TrackedBatches batches = new TrackedBatches(db, 20)) {
            AtomicBoolean armed = new AtomicBoolean(false);
            batches.step((records, c) -> {
                if (batches.committed.get() < 4 || !armed.compareAndSet(false, true)) {
                    return;
                }
                // Only a transaction during which the next batch was prepared is killed.
                if (!waitFor(batches::nextPrepared, Duration.ofSeconds(2))) {
                    armed.set(false);
                    return;
                }
                records.forEach(r -> killed.add(TrackedBatches.key(r)));
                batches.terminate(c); // as an operator's pg_terminate_backend, or a server restart, would
            });
            runUntilDone(batches.loop(topic, group, 10), topic, group, 300, batches);

            assertThat(killed).as("records of the killed transaction").isNotEmpty();
            assertThat(batches.preparedAgain())
                    .as("the killed batch and the one prepared after it are read and prepared again")
                    .containsAll(killed)
                    .anySatisfy(key -> assertThat(killed).doesNotContain(key));
            assertThat(batches.mostAtOnce).hasValue(1);
        }
    }

    @Test
    void poisonAndRefusedRecordsAmongOverlappedBatchesAreDeadLetteredOnceAndTheRestWrittenOnce() throws Exception {
        String topic = KafkaTopics.create("overlappoison", 2);
        String group = "poison-" + UUID.randomUUID();
        KafkaTopics.createNamed(DeadLetters.topicOf(topic), 1);
        KafkaTopics.produce(topic, 200, i -> switch (i % 50) {
            case 7 -> "poison-" + i; // refused by the decoder
            case 23 -> "refused"; // refused by the database, in a transaction on the writer thread
            default -> "value-" + i;
        });
        try (TrackedBatches batches = new TrackedBatches(db, 20);
                var producer = io.ragline.core.kafka.KafkaClients.producer(
                        KafkaTopics.bootstrapServers(),
                        io.ragline.core.kafka.KafkaSettings.from(new io.ragline.core.config.Env(Map.of())),
                        group)) {
            batches.deadLetters(new KafkaDeadLetters(producer, group, Duration.ofSeconds(30)));
            batches.step((records, c) -> Thread.sleep(10));
            ConsumerLoop<String> loop = batches.loop(topic, group, 10);
            Thread thread = new Thread(loop, "overlap-it-poison");
            thread.start();
            try {
                awaitCommitted(group, topic, 200, batches);
            } finally {
                loop.stop();
                thread.join(WAIT.toMillis());
            }

            assertThat(AppliedTable.rows(db, topic)).isEqualTo(192);
            assertThat(AppliedTable.distinct(db, topic)).isEqualTo(192);
            assertThat(KafkaTopics.readAll(DeadLetters.topicOf(topic), Duration.ofSeconds(10)))
                    .extracting(r -> r.value())
                    .hasSize(8)
                    .containsOnlyOnce("poison-7", "poison-57", "poison-107", "poison-157")
                    .filteredOn("refused"::equals)
                    .hasSize(4);
            assertThat(batches.preparedWhileWriting).hasPositiveValue();
            assertThat(batches.fatal).isEmpty();
        }
    }

    /**
     * A second consumer joins and leaves, round after round, until a rebalance takes partitions
     * from the first while its transaction on one of them runs; that transaction fails. The
     * rebalance waits for it, and the failure rewinds only the partitions the first keeps (a seek
     * of one given up would end its loop).
     */
    @Test
    void partitionsRevokedWhileABatchOfThemIsWrittenWaitForItAndItsFailureRewindsOnlyThePartitionsKept()
            throws Exception {
        String topic = KafkaTopics.create("overlaprevoke", 4);
        String group = "revoke-" + UUID.randomUUID();
        int records = 4000;
        TrackedBatches.produceInSmallBatches(
                topic, records); // so that a consumer's batches move from partition to partition
        AtomicReference<Set<TopicPartition>> revokedWhileWriting = new AtomicReference<>(Set.of());
        AtomicInteger revocations = new AtomicInteger();
        AtomicBoolean failed = new AtomicBoolean();
        try (TrackedBatches batches = new TrackedBatches(db, 10)) {
            batches.step((records1, c) -> {
                Set<TopicPartition> mine = new HashSet<>();
                records1.forEach(r -> mine.add(new TopicPartition(r.topic(), r.partition())));
                if (!failed.get()
                        && waitFor(
                                () -> revokedWhileWriting.get().stream().anyMatch(mine::contains),
                                Duration.ofMillis(200))
                        && failed.compareAndSet(false, true)) {
                    throw new SQLException("terminating connection due to administrator command", "57P01");
                }
            });
            ConsumerLoop<String> a = batches.loop(topic, group, 10, TrackedBatches.SMALL_FETCHES, revoked -> {
                if (!revoked.isEmpty()) {
                    revocations.incrementAndGet();
                    Set<TopicPartition> writing = new HashSet<>(batches.writing());
                    writing.retainAll(revoked);
                    if (!writing.isEmpty() && !failed.get()) {
                        revokedWhileWriting.set(writing); // the transaction running fails, the rebalance waits
                    }
                }
            });
            Thread first = new Thread(a, "overlap-it-a");
            first.start();
            try {
                for (int round = 0; round < 10 && !failed.get(); round++) {
                    long applied = AppliedTable.rows(db, topic);
                    await().atMost(WAIT).until(() -> AppliedTable.rows(db, topic) > applied + 20); // it holds all
                    int before = revocations.get();
                    ConsumerLoop<String> b = batches.loop(topic, group, 10, TrackedBatches.SMALL_FETCHES, p -> {});
                    Thread second = new Thread(b, "overlap-it-b" + round);
                    second.start();
                    waitFor(() -> revocations.get() > before, Duration.ofSeconds(20));
                    b.stop(); // leaves the group: the first consumer takes every partition back
                    second.join(WAIT.toMillis());
                }
                waitFor(failed::get, Duration.ofSeconds(5)); // a transaction of the last round may fail just now
                assertThat(failed) // else every transaction waits 200 ms for a revocation, to the end
                        .as("a transaction failed while a rebalance took its partition, in 10 rounds")
                        .isTrue();
                awaitCommitted(group, topic, records, batches);
            } finally {
                a.stop();
                first.join(WAIT.toMillis());
            }

            assertThat(AppliedTable.rows(db, topic)).isEqualTo(records);
            assertThat(AppliedTable.distinct(db, topic)).isEqualTo(records);
            assertThat(batches.stored(group, topic)).isEqualTo(records);
        }
    }

    /**
     * Preparing a batch takes 2 s and writing one 1.8 s, and the group's {@code max.poll.interval}
     * is 3 s: the loop polls between each prepare and the next (while the write before runs), so
     * it never overruns the interval, never loses its partitions, and applies each record once. A
     * loop that wrote each batch before the next poll (3.8 s between polls) would lose them.
     */
    @Test
    void aLoopWhoseBatchesTakeMostOfMaxPollIntervalToPrepareAndToWriteKeepsItsPartitions() throws Exception {
        String topic = KafkaTopics.create("overlappollinterval", 1);
        String group = "interval-" + UUID.randomUUID();
        KafkaTopics.produce(topic, 30, i -> "value-" + i);
        AtomicInteger released = new AtomicInteger();
        try (TrackedBatches batches = new TrackedBatches(db, 2000)) {
            batches.step((records, c) -> Thread.sleep(1800));
            ConsumerLoop<String> loop =
                    batches.loop(topic, group, 5, Map.of("RAGLINE_MAX_POLL_INTERVAL", "3s"), partitions -> {
                        if (!partitions.isEmpty()) {
                            released.incrementAndGet();
                        }
                    });
            Thread thread = new Thread(loop, "overlap-it-interval");
            thread.start();
            try {
                awaitCommitted(group, topic, 30, batches);
                assertThat(released)
                        .as("partitions revoked or lost while running")
                        .hasValue(0);
            } finally {
                loop.stop();
                thread.join(WAIT.toMillis());
            }
            assertThat(batches.preparedWhileWriting).hasPositiveValue();
            assertThat(AppliedTable.rows(db, topic)).isEqualTo(30);
            assertThat(AppliedTable.distinct(db, topic)).isEqualTo(30);
            assertThat(batches.fatal).isEmpty();
        }
    }

    @Test
    void aLoopStoppedWhileABatchIsWrittenFinishesItAndCommitsItToKafkaBeforeItEnds() throws Exception {
        String topic = KafkaTopics.create("overlapstop", 2);
        String group = "stop-" + UUID.randomUUID();
        KafkaTopics.produce(topic, 200, i -> "value-" + i);
        try (TrackedBatches batches = new TrackedBatches(db, 10)) {
            CountDownLatch writing = new CountDownLatch(1);
            Set<String> inFlight = ConcurrentHashMap.newKeySet();
            batches.step((records, c) -> {
                if (batches.committed.get() >= 3 && writing.getCount() > 0) {
                    records.forEach(r -> inFlight.add(TrackedBatches.key(r)));
                    writing.countDown();
                    Thread.sleep(500); // the stop comes while this transaction runs
                }
            });
            ConsumerLoop<String> loop = batches.loop(topic, group, 10);
            Thread thread = new Thread(loop, "overlap-it-stop");
            thread.start();
            assertThat(writing.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            loop.stop();
            thread.join(WAIT.toMillis());

            assertThat(thread.isAlive()).isFalse();
            assertThat(batches.applied(topic))
                    .as("the batch written when the loop stopped")
                    .containsAll(inFlight);
            long stored = batches.stored(group, topic);
            assertThat(kafkaCommitted(group).values().stream()
                            .mapToLong(Long::longValue)
                            .sum())
                    .as("Kafka's committed offsets, right after the loop ended")
                    .isEqualTo(stored);

            runUntilDone(batches.loop(topic, group, 10), topic, group, 200, batches);
            assertThat(batches.preparedAgain())
                    .as("records prepared by both lives")
                    .isEmpty();
        }
    }

    /** Runs {@code loop} until Kafka's committed offsets of {@code group} reach {@code records}; checks each applied once. */
    private static void runUntilDone(
            ConsumerLoop<String> loop, String topic, String group, int records, TrackedBatches batches)
            throws Exception {
        Thread thread = new Thread(loop, "overlap-it-loop");
        thread.start();
        try {
            awaitCommitted(group, topic, records, batches);
        } finally {
            loop.stop();
            thread.join(WAIT.toMillis());
        }
        assertThat(AppliedTable.rows(db, topic)).isEqualTo(records);
        assertThat(AppliedTable.distinct(db, topic)).isEqualTo(records);
        assertThat(batches.stored(group, topic)).isEqualTo(records);
        assertThat(batches.fatal).as("what ended a loop").isEmpty();
    }

    /**
     * Waits until Kafka's committed offsets of {@code group} add up to {@code records}, or a loop
     * died; on a timeout the failure says where each partition stands (Kafka, Postgres, the
     * topic's end), what ended a loop and what the loops' threads were doing.
     */
    private static void awaitCommitted(String group, String topic, long records, TrackedBatches batches)
            throws Exception {
        try {
            await().atMost(WAIT)
                    .until(() -> !batches.fatal.isEmpty()
                            || kafkaCommitted(group).values().stream()
                                            .mapToLong(Long::longValue)
                                            .sum()
                                    == records);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            StringBuilder threads = new StringBuilder();
            Thread.getAllStackTraces().forEach((t, stack) -> {
                if (t.getName().startsWith("overlap-it") || t.getName().endsWith("-writer")) {
                    threads.append('\n').append(t.getName()).append(' ').append(t.getState());
                    for (StackTraceElement frame : stack) {
                        threads.append("\n    at ").append(frame);
                    }
                }
            });
            try (Connection c = db.connect()) {
                throw new AssertionError(
                        "Kafka's committed offsets of " + group + " did not add up to " + records + " within " + WAIT
                                + ": Kafka " + byPartition(kafkaCommitted(group)) + ", Postgres "
                                + byPartition(stored(c, group, topic)) + ", rows applied "
                                + AppliedTable.rows(db, topic) + ", the topic's end " + KafkaTopics.endOffsets(topic)
                                + threads,
                        e);
            }
        }
        assertThat(batches.fatal).as("what ended a loop").isEmpty();
    }

    /** {@code offsets} as {@code {0=12, 1=40}}, by partition (TopicPartition is not Comparable). */
    private static String byPartition(Map<TopicPartition, Long> offsets) {
        java.util.TreeMap<Integer, Long> sorted = new java.util.TreeMap<>();
        offsets.forEach((tp, offset) -> sorted.put(tp.partition(), offset));
        return sorted.toString();
    }

    private static Map<TopicPartition, Long> stored(Connection c, String group, String topic) throws SQLException {
        Map<TopicPartition, Long> stored = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement(
                "select partition, next_offset from consumer_offsets where group_id = ? and topic = ?")) {
            s.setString(1, group);
            s.setString(2, topic);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    stored.put(new TopicPartition(topic, rs.getInt(1)), rs.getLong(2));
                }
            }
        }
        return stored;
    }

    private static Map<TopicPartition, Long> kafkaCommitted(String group) throws Exception {
        Map<TopicPartition, Long> committed = new HashMap<>();
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get(10, TimeUnit.SECONDS);
        offsets.forEach((tp, o) -> {
            if (o != null) {
                committed.put(tp, o.offset());
            }
        });
        return committed;
    }

    private static boolean waitFor(java.util.concurrent.Callable<Boolean> condition, Duration atMost) {
        try {
            Awaitility.await().atMost(atMost).pollInterval(Duration.ofMillis(5)).until(condition);
            return true;
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            return false;
        }
    }
}
