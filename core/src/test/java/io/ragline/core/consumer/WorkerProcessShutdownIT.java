package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** SIGTERM and SIGKILL to a real worker process in the middle of a slow batch. */
class WorkerProcessShutdownIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema();

    /** A schema the runtime migrates but where the handler's table was never created. */
    @RegisterExtension
    static final PostgresSchema withoutTable = new PostgresSchema(false);

    static final int RECORDS = 120;

    @BeforeAll
    static void table() throws SQLException {
        AppliedTable.create(db);
    }

    @Test
    void sigtermDuringABatchExitsZeroInTimeAndCommitsNothingUnwritten() throws Exception {
        String topic = KafkaTopics.create("sigterm", 3);
        String prefix = "term-" + UUID.randomUUID();
        produce(topic);

        JavaProcess worker = fixture(topic, prefix, 1500);
        await().atMost(Duration.ofSeconds(90)).until(() -> rows(topic) > 0);
        long started = System.nanoTime();
        worker.terminate(); // the next batch is sleeping inside its transaction now

        assertThat(worker.waitFor(20)).as(worker.stdout()).isZero();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        assertNothingCommittedThatWasNotWritten(topic, prefix + "-fixture");

        JavaProcess again = fixture(topic, prefix, 0);
        await().atMost(Duration.ofSeconds(90)).until(() -> rows(topic) == RECORDS);
        again.terminate();
        assertThat(again.waitFor(20)).isZero();
        assertThat(rows(topic)).isEqualTo(RECORDS);
        assertThat(distinct(topic)).isEqualTo(RECORDS);
    }

    @Test
    void sigtermWhileABatchIsWrittenOnTheWriterThreadFinishesItCommitsItToKafkaAndExitsZero() throws Exception {
        String topic = KafkaTopics.create("sigtermoverlap", 3);
        String prefix = "termoverlap-" + UUID.randomUUID();
        produce(topic);

        JavaProcess worker = fixture(topic, prefix, 1500, true);
        await().atMost(Duration.ofSeconds(90)).until(() -> rows(topic) > 0);
        long started = System.nanoTime();
        worker.terminate(); // a batch's transaction is sleeping on the writer thread now

        assertThat(worker.waitFor(20)).as(worker.stdout()).isZero();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        assertNothingCommittedThatWasNotWritten(topic, prefix + "-fixture");
        assertThat(kafkaCommitted(topic, prefix + "-fixture"))
                .as("Kafka's committed offsets when the process ended: every batch stored was committed")
                .isEqualTo(((Number) db.queryValue("select coalesce(sum(next_offset), 0) from consumer_offsets"
                                + " where group_id = '" + prefix + "-fixture' and topic = '" + topic + "'"))
                        .longValue())
                .isPositive();

        JavaProcess again = fixture(topic, prefix, 0, true);
        await().atMost(Duration.ofSeconds(90)).until(() -> rows(topic) == RECORDS);
        again.terminate();
        assertThat(again.waitFor(20)).isZero();
        assertThat(rows(topic)).isEqualTo(RECORDS);
        assertThat(distinct(topic)).isEqualTo(RECORDS);
    }

    @Test
    void sigkillDuringABatchLosesNothingAndDuplicatesNothingAfterARestart() throws Exception {
        String topic = KafkaTopics.create("sigkill", 3);
        String prefix = "kill-" + UUID.randomUUID();
        produce(topic);

        JavaProcess worker = fixture(topic, prefix, 1000);
        await().atMost(Duration.ofSeconds(90)).until(() -> rows(topic) > 0);
        worker.kill();
        worker.waitFor(20);
        long afterKill = rows(topic);
        assertThat(afterKill).isLessThan(RECORDS);

        JavaProcess again = fixture(topic, prefix, 0);
        await().atMost(Duration.ofSeconds(120)).until(() -> rows(topic) == RECORDS);
        again.terminate();
        assertThat(again.waitFor(20)).isZero();
        assertThat(rows(topic)).isEqualTo(RECORDS);
        assertThat(distinct(topic)).isEqualTo(RECORDS);
    }

    @Test
    void aFatalFailureStopsTheProcessWithExitStatusOneAndCommitsNothing() throws Exception {
        String topic = KafkaTopics.create("fatal", 1);
        String prefix = "fatal-" + UUID.randomUUID();
        KafkaTopics.produce(topic, 5, i -> "value-" + i);
        Map<String, String> env = new HashMap<>(withoutTable.env());
        env.put("FIXTURE_TOPIC", topic);
        env.put("RAGLINE_GROUP_PREFIX", prefix);
        env.put("RAGLINE_ADMIN_PORT", "0");

        JavaProcess worker = JavaProcess.start(List.of(), ConsumerFixtureMain.class.getName(), env);

        assertThat(worker.waitFor(60)).isEqualTo(1);
        assertThat(worker.stdout()).containsOnlyOnce("stopped: writing a batch").contains("does not exist");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()))) {
            assertThat(admin.listConsumerGroupOffsets(prefix + "-fixture")
                            .partitionsToOffsetAndMetadata()
                            .get(10, TimeUnit.SECONDS)
                            .values())
                    .allSatisfy(offset -> assertThat(offset).isNull());
        }
    }

    private static JavaProcess fixture(String topic, String prefix, long sleepMillis) throws Exception {
        return fixture(topic, prefix, sleepMillis, false);
    }

    private static JavaProcess fixture(String topic, String prefix, long sleepMillis, boolean overlap)
            throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("FIXTURE_OVERLAP", String.valueOf(overlap));
        env.put("FIXTURE_TOPIC", topic);
        env.put("FIXTURE_SLEEP_MS", String.valueOf(sleepMillis));
        env.put("RAGLINE_GROUP_PREFIX", prefix);
        env.put("RAGLINE_MAX_POLL_RECORDS", "10");
        env.put("RAGLINE_SHUTDOWN_TIMEOUT", "8s");
        env.put("RAGLINE_ADMIN_PORT", "0");
        return JavaProcess.start(List.of(), ConsumerFixtureMain.class.getName(), env);
    }

    /** Every offset committed to Kafka is covered by rows in the database. */
    private static void assertNothingCommittedThatWasNotWritten(String topic, String group) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()))) {
            var committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get(10, TimeUnit.SECONDS);
            for (var e : committed.entrySet()) {
                if (e.getValue() == null || !e.getKey().topic().equals(topic)) {
                    continue;
                }
                long written = (long) db.queryValue("select count(*) from applied where topic = '" + topic
                        + "' and partition = " + e.getKey().partition() + " and record_offset < "
                        + e.getValue().offset());
                assertThat(written)
                        .as(
                                "partition %s committed up to %s",
                                e.getKey(), e.getValue().offset())
                        .isEqualTo(e.getValue().offset());
            }
        }
    }

    /** The next offsets {@code group} committed to Kafka on {@code topic}, summed over its partitions. */
    private static long kafkaCommitted(String topic, String group) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()))) {
            return admin
                    .listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get(10, TimeUnit.SECONDS)
                    .entrySet()
                    .stream()
                    .filter(e -> e.getValue() != null && e.getKey().topic().equals(topic))
                    .mapToLong(e -> e.getValue().offset())
                    .sum();
        }
    }

    private static void produce(String topic) {
        KafkaTopics.produce(topic, RECORDS, i -> "value-" + i);
    }

    private static long rows(String topic) throws SQLException {
        return AppliedTable.rows(db, topic);
    }

    private static long distinct(String topic) throws SQLException {
        return AppliedTable.distinct(db, topic);
    }
}
