package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka's committed offset catches up with the offset stored in Postgres with the work
 * ({@link OffsetCommitter}), against the real broker and real rebalances (classic protocol,
 * cooperative-sticky, static members, as the workers run): a commit refused during a rebalance on a
 * partition its member keeps, and a partition assigned whose work was done past Kafka's offset.
 */
class OffsetCommitCatchUpIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema();

    static final Duration WAIT = Duration.ofSeconds(90);
    static HikariDataSource pool;

    @BeforeAll
    static void table() throws SQLException {
        AppliedTable.create(db);
        pool = Database.pool(
                DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), 4, "catch-up-it", null);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    @Test
    void anOffsetRefusedInARebalanceReachesKafkaWhenTheRebalanceEndsThoughItsKeptPartitionGetsNoNewRecord()
            throws Exception {
        String topic = KafkaTopics.create("refused", 2);
        String group = "refused-" + UUID.randomUUID();
        HoldingWriter holding = new HoldingWriter();
        try (KafkaProducer<String, String> producer = KafkaTopics.producer();
                Member a = new Member(topic, group, "a", AppliedTable.writer(0));
                Member b = new Member(topic, group, "b", holding);
                holding) { // released first, should anything fail while B waits
            await().atMost(WAIT).until(() -> oneEach(assignments(group), 2));
            TopicPartition pa = single(assignments(group).get("a"));
            TopicPartition pb = single(assignments(group).get("b"));

            // B stops inside a batch: a rebalance cannot end until B polls again.
            producer.send(new ProducerRecord<>(topic, pb.partition(), "b", "hold"))
                    .get();
            assertThat(holding.entered.await(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .isTrue();
            try (Member c = new Member(topic, group, "c", AppliedTable.writer(0))) {
                // C's join starts a rebalance; A joins it too and goes on applying its partition's
                // records meanwhile (cooperative), but Kafka refuses its commits until the rebalance ends.
                AtomicInteger sent = new AtomicInteger();
                await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
                    producer.send(new ProducerRecord<>(topic, pa.partition(), "a", "a-" + sent.get()))
                            .get();
                    sent.incrementAndGet();
                    return a.commits("refused") > 0;
                });
                long records = sent.get(); // no record is sent to A's partition from here on
                await().atMost(WAIT).until(() -> stored(group, pa) == records);
                assertThat(kafkaCommitted(group, pa))
                        .as("Kafka's committed offset while the rebalance waits for B")
                        .isLessThan(records);

                holding.release.countDown();
                await().atMost(WAIT).until(() -> kafkaCommitted(group, pa) == records);

                await().atMost(WAIT).until(() -> assignments(group).size() == 3);
                assertThat(assignments(group).get("a"))
                        .as("A kept its partition")
                        .containsExactly(pa);
                assertThat(a.commits("recommitted")).isPositive();
                assertThat(List.of(a, b, c)).as("loops running").allMatch(m -> m.thread.isAlive());
                await().atMost(WAIT).until(() -> AppliedTable.rows(db, topic) == records + 1);
                assertThat(AppliedTable.distinct(db, topic)).isEqualTo(records + 1);
            }
        }
    }

    @Test
    void aPartitionAssignedWhoseWorkWentPastKafkasOffsetIsCommittedThereAndNotReadAgain() throws Exception {
        String topic = KafkaTopics.create("behind", 1);
        String group = "behind-" + UUID.randomUUID();
        TopicPartition p0 = new TopicPartition(topic, 0);
        KafkaTopics.produce(topic, 30, i -> "value-" + i);

        // First life: its first batch commits in Postgres, then the process dies before Kafka's commit.
        PostgresBatchSink<String> real =
                new PostgresBatchSink<>(pool, group, AppliedTable.writer(0), CircuitBreaker.ofDefaults("first-life"));
        BatchSink<String> dying = (records, consumed) -> {
            real.write(records, consumed);
            throw new ProcessDied();
        };
        Member first = new Member(topic, group, "first", dying, false);
        first.thread.join(WAIT.toMillis()); // it closed its consumer, leaving the group, as it died
        long done = stored(group, p0);
        assertThat(done).isPositive();
        assertThat(kafkaCommitted(group, p0))
                .as("Kafka's committed offset after the crash")
                .isEqualTo(-1);

        // Second life: starts from the stored offset, though Kafka had nothing committed.
        RecordingWriter seen = new RecordingWriter();
        try (Member second = new Member(topic, group, "second", seen, false)) {
            await().atMost(WAIT).until(() -> kafkaCommitted(group, p0) == 30);
            assertThat(second.commits("behind_stored")).isEqualTo(1.0);
        }
        assertThat(seen.offsets).as("records read by the second life").allMatch(offset -> offset >= done);
        assertThat(seen.offsets.stream().distinct()).hasSize((int) (30 - done));
        assertThat(AppliedTable.distinct(db, topic)).isEqualTo(30);
        assertThat(AppliedTable.rows(db, topic)).isEqualTo(30);
    }

    /** One member of a group: a batch loop with a Postgres sink on a thread of its own, its own metrics. */
    private static final class Member implements AutoCloseable {
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final ConsumerLoop<String> loop;
        final Thread thread;

        /** A static member named {@code name}, as the workers run with a group instance id. */
        Member(String topic, String group, String name, BatchWriter<String> writer) {
            this(topic, group, name, sink(group, writer), true);
        }

        Member(String topic, String group, String name, BatchWriter<String> writer, boolean isStatic) {
            this(topic, group, name, sink(group, writer), isStatic);
        }

        Member(String topic, String group, String name, BatchSink<String> sink, boolean isStatic) {
            loop = new ConsumerLoop<>(
                    KafkaClients.consumer(
                            KafkaTopics.bootstrapServers(),
                            KafkaSettings.from(new Env(Map.of())),
                            group,
                            name,
                            100,
                            isStatic ? Optional.of(group + "-" + name) : Optional.empty()),
                    List.of(topic),
                    AppliedTable.decoder(),
                    sink,
                    (r, e, n) -> {
                        throw new AssertionError("no dead letter expected");
                    },
                    FailurePolicy.defaults(),
                    ConsumerLoop.Settings.of(Duration.ofMillis(100), Duration.ofSeconds(1), 3),
                    Clock.systemUTC(),
                    new ConsumerMetrics(registry, name),
                    e -> {});
            thread = new Thread(loop, "member-" + name);
            thread.start();
        }

        private static PostgresBatchSink<String> sink(String group, BatchWriter<String> writer) {
            return new PostgresBatchSink<>(pool, group, writer, CircuitBreaker.ofDefaults("catch-up-it"));
        }

        double commits(String outcome) {
            Counter c = registry.find("ragline.consumer.offset.commits")
                    .tag("outcome", outcome)
                    .counter();
            return c == null ? 0 : c.count();
        }

        @Override
        public void close() throws InterruptedException {
            loop.stop();
            thread.join(WAIT.toMillis());
        }
    }

    /** Applies records, but stops in the batch holding "hold" until released (outside the transaction). */
    private static final class HoldingWriter implements BatchWriter<String>, AutoCloseable {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public BatchWriter<String> prepare(List<InboundRecord<String>> records) throws Exception {
            if (records.stream().anyMatch(r -> "hold".equals(r.value()))) {
                entered.countDown();
                assertThat(release.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            }
            return this;
        }

        @Override
        public void write(List<InboundRecord<String>> records, java.sql.Connection c) throws Exception {
            AppliedTable.insert(records, c);
        }

        @Override
        public void close() {
            release.countDown();
        }
    }

    /** Applies records and remembers the offset of every record it was given to prepare. */
    private static final class RecordingWriter implements BatchWriter<String> {
        final ConcurrentLinkedQueue<Long> offsets = new ConcurrentLinkedQueue<>();

        @Override
        public BatchWriter<String> prepare(List<InboundRecord<String>> records) {
            records.forEach(r -> offsets.add(r.offset()));
            return this;
        }

        @Override
        public void write(List<InboundRecord<String>> records, java.sql.Connection c) throws Exception {
            AppliedTable.insert(records, c);
        }
    }

    /** Stands for the process dying: an Error no handler classifies, ending the loop's thread. */
    private static final class ProcessDied extends Error {
        private static final long serialVersionUID = 1L;

        ProcessDied() {
            super("simulated crash after the database commit");
        }
    }

    /** {@code members} members, each with one partition. */
    private static boolean oneEach(Map<String, Set<TopicPartition>> assignments, int members) {
        return assignments.size() == members && assignments.values().stream().allMatch(p -> p.size() == 1);
    }

    private static TopicPartition single(Set<TopicPartition> partitions) {
        assertThat(partitions).hasSize(1);
        return partitions.iterator().next();
    }

    /** The partitions of each member of a stable {@code group} by client id; empty while it rebalances. */
    private static Map<String, Set<TopicPartition>> assignments(String group) throws Exception {
        try (Admin admin = admin()) {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group))
                    .all()
                    .get(10, TimeUnit.SECONDS)
                    .get(group);
            Map<String, Set<TopicPartition>> byClient = new HashMap<>();
            if (d.groupState() == GroupState.STABLE) {
                for (MemberDescription m : d.members()) {
                    byClient.put(m.clientId(), m.assignment().topicPartitions());
                }
            }
            return byClient;
        } catch (java.util.concurrent.ExecutionException e) {
            return Map.of(); // no member joined yet
        }
    }

    /** The group's offset committed in Kafka for {@code tp}, -1 for none. */
    private static long kafkaCommitted(String group, TopicPartition tp) throws Exception {
        try (Admin admin = admin()) {
            OffsetAndMetadata o = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get(10, TimeUnit.SECONDS)
                    .get(tp);
            return o == null ? -1 : o.offset();
        }
    }

    /** The next offset stored in Postgres with the work for {@code tp}, -1 for none. */
    private static long stored(String group, TopicPartition tp) throws SQLException {
        Object next = db.queryValue("select coalesce(max(next_offset), -1) from consumer_offsets where group_id = '"
                + group + "' and topic = '" + tp.topic() + "' and partition = " + tp.partition());
        return ((Number) next).longValue();
    }

    private static Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()));
    }
}
