package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TcpProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The runtime's guarantees (docs/architecture.md section 4) against real Postgres and a real broker. */
class ConsumerLoopIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema();

    static final Duration WAIT = Duration.ofSeconds(90);

    @BeforeAll
    static void table() throws SQLException {
        AppliedTable.create(db);
    }

    @Test
    void aBindingBoundsItsBatchesBelowTheProcessDefault() throws Exception {
        String topic = KafkaTopics.create("bounded", 1);
        produce(topic, 60, i -> "value-" + i); // all there before the first poll
        java.util.Queue<Integer> sizes = new java.util.concurrent.ConcurrentLinkedQueue<>();
        BatchWriter<String> writer = (records, c) -> {
            sizes.add(records.size());
            AppliedTable.insert(records, c);
        };

        try (WorkerRuntime runtime = start(db.env(), topic, writer, b -> b.withMaxPollRecords(7))) {
            await().atMost(WAIT).until(() -> rowsOf(topic) == 60);
            assertThat(sizes).allSatisfy(size -> assertThat(size).isBetween(1, 7));
            assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(60);
        }
    }

    @Test
    void aRolledBackBatchIsRedeliveredAndEachRecordAppliedOnce() throws Exception {
        String topic = KafkaTopics.create("rollback", 3);
        produce(topic, 60, i -> "value-" + i);
        AtomicBoolean failedOnce = new AtomicBoolean();
        BatchWriter<String> writer = (records, c) -> {
            AppliedTable.insert(records, c); // written, then the transaction is rolled back
            if (failedOnce.compareAndSet(false, true)) {
                throw new SQLException("connection reset while committing", "08006");
            }
        };

        try (WorkerRuntime runtime = start(db.env(), topic, writer)) {
            await().atMost(WAIT).until(() -> rowsOf(topic) == 60);
            assertThat(failedOnce).isTrue();
            assertThat(distinctOf(topic)).isEqualTo(60);
            await().atMost(WAIT).until(() -> committedOffsets(runtime, topic) == 60);
            assertThat(rowsOf(topic)).isEqualTo(60);
        }
    }

    @Test
    void aBatchRedeliveredAfterACrashBetweenDatabaseAndKafkaCommitsHasNoEffect() throws Exception {
        String topic = KafkaTopics.create("crash", 1);
        produce(topic, 30, i -> "value-" + i);
        String group = "crash-" + UUID.randomUUID();
        // First life: the database commits, then the process "dies" before the Kafka commit.
        AtomicInteger batches = new AtomicInteger();
        BatchSink<String> crashing = new BatchSink<>() {
            final PostgresBatchSink<String> real = sink(group);

            @Override
            public void write(List<InboundRecord<String>> records, List<ConsumerRecord<byte[], byte[]>> consumed)
                    throws Exception {
                real.write(records, consumed);
                if (batches.incrementAndGet() == 1) {
                    throw new ProcessDied();
                }
            }
        };
        Thread first = new Thread(loop(topic, group, crashing));
        first.start();
        first.join(WAIT.toMillis());
        long afterCrash = rowsOf(topic);
        assertThat(afterCrash).isPositive();

        // Second life: everything is redelivered from the last Kafka commit (none).
        ConsumerLoop<String> second = loop(topic, group, sink(group));
        Thread t = new Thread(second);
        t.start();
        try {
            // Only once the second life has committed past the redelivered batch is the count final.
            await().atMost(WAIT).until(() -> committed(group, topic) == 30);
            assertThat(rowsOf(topic)).isEqualTo(30);
            assertThat(distinctOf(topic)).isEqualTo(30);
        } finally {
            second.stop();
            t.join(WAIT.toMillis());
        }
    }

    @Test
    void poisonRecordsGoToTheDeadLetterTopicWithTheirStoryAndTheGoodOnesAreApplied() throws Exception {
        String topic = KafkaTopics.create("poison", 1);
        produce(topic, 10, i -> switch (i) {
            case 3 -> "poison-not-json";
            case 6 -> "refused";
            default -> "good-" + i;
        });

        try (WorkerRuntime runtime = start(db.env(), topic, AppliedTable.writer(0))) {
            await().atMost(WAIT).until(() -> rowsOf(topic) == 8);
            List<ConsumerRecord<String, String>> dead =
                    KafkaTopics.read(DeadLetters.topicOf(topic), 2, Duration.ofSeconds(30));

            assertThat(dead).extracting(ConsumerRecord::value).containsExactly("poison-not-json", "refused");
            // Created by the runtime beside its source (1 partition), not auto-created (3).
            assertThat(KafkaTopics.endOffsets(DeadLetters.topicOf(topic))).hasSize(1);
            ConsumerRecord<String, String> first = dead.get(0);
            assertThat(header(first, KafkaDeadLetters.ERROR_CLASS)).isEqualTo(PoisonRecordException.class.getName());
            assertThat(header(first, KafkaDeadLetters.ERROR_MESSAGE)).contains("starts with 'poison'");
            assertThat(header(first, KafkaDeadLetters.TOPIC)).isEqualTo(topic);
            assertThat(header(first, KafkaDeadLetters.PARTITION)).isEqualTo("0");
            assertThat(header(first, KafkaDeadLetters.OFFSET)).isEqualTo("3");
            assertThat(header(first, KafkaDeadLetters.TIMESTAMP)).matches("\\d+");
            assertThat(header(first, KafkaDeadLetters.ATTEMPTS)).isEqualTo("1");
            assertThat(first.key()).isEqualTo("key-3");
            assertThat(header(dead.get(1), KafkaDeadLetters.ERROR_MESSAGE))
                    .contains("check constraint")
                    .doesNotContain("Failing row"); // row content stays out of headers and logs
            assertThat(header(dead.get(1), KafkaDeadLetters.OFFSET)).isEqualTo("6");
            assertThat(runtime.registry().scrape())
                    .containsPattern("ragline_consumer_records_total\\{[^}]*outcome=\"dead_lettered\"[^}]*} 2.0");
            await().atMost(WAIT).until(() -> committedOffsets(runtime, topic) == 10);
        }
    }

    @Test
    void postgresDownForTenSecondsPausesBacksOffAndResumesWithNothingLostOrDoubled() throws Exception {
        String topic = KafkaTopics.create("outage", 3);
        try (TcpProxy proxy = TcpProxy.forDatabase()) {
            Map<String, String> env = new HashMap<>(db.env());
            env.put("DATABASE_URL", proxy.databaseUrl(db.databaseUrl()));
            env.put("RAGLINE_RETRY_BACKOFF_INITIAL", "200ms");
            env.put("RAGLINE_RETRY_BACKOFF_MAX", "2s");
            env.put("RAGLINE_MAX_POLL_RECORDS", "20");
            env.put("RAGLINE_CONSUMER_THREADS", "2");
            try (WorkerRuntime runtime = start(env, topic, AppliedTable.writer(0))) {
                HttpClient http = HttpClient.newHttpClient();
                produce(topic, 100, i -> "before-" + i);
                await().atMost(WAIT).until(() -> rowsOf(topic) == 100);

                proxy.cut();
                produce(topic, 100, i -> "during-" + i);
                await().atMost(WAIT).until(() -> ready(http, runtime) == 503);
                await().atMost(WAIT)
                        .until(() -> runtime.registry()
                                .scrape()
                                .matches(
                                        "(?s).*ragline_consumer_pauses_total\\{[^}]*kind=\"transient\"[^}]*} [1-9].*"));
                Thread.sleep(10_000); // the outage lasts ten seconds
                proxy.restore();

                produce(topic, 100, i -> "after-" + i);
                await().atMost(WAIT).until(() -> rowsOf(topic) == 300);
                assertThat(distinctOf(topic)).isEqualTo(300);
                await().atMost(WAIT).until(() -> ready(http, runtime) == 200);
                String metrics = runtime.registry().scrape();
                assertThat(metrics)
                        .containsPattern("ragline_consumer_paused_partitions\\{[^}]*} 0.0")
                        .contains("ragline_consumer_batch_size_count{")
                        .contains("ragline_consumer_batch_duration_seconds_bucket{")
                        .contains("resilience4j_circuitbreaker_state{")
                        .containsPattern("ragline_consumer_failures_total\\{[^}]*kind=\"transient\"");
                // Lag per partition, from the consumer's own metrics.
                await().atMost(WAIT)
                        .until(() -> runtime.registry()
                                .scrape()
                                .matches(
                                        "(?s).*kafka_consumer_fetch_manager_records_lag\\{[^}]*partition=\"[0-9]+\"[^}]*topic=\""
                                                + topic + "\".*"));
            }
        }
    }

    @Test
    void aPoisonRecordInABatchRetriedThroughADatabaseOutageIsDeadLetteredOnce() throws Exception {
        String topic = KafkaTopics.create("poisonoutage", 1);
        try (TcpProxy proxy = TcpProxy.forDatabase()) {
            Map<String, String> env = new HashMap<>(db.env());
            env.put("DATABASE_URL", proxy.databaseUrl(db.databaseUrl()));
            env.put("RAGLINE_RETRY_BACKOFF_INITIAL", "100ms");
            env.put("RAGLINE_RETRY_BACKOFF_MAX", "500ms");
            try (WorkerRuntime runtime = start(env, topic, AppliedTable.writer(0))) {
                produce(topic, 3, i -> "before-" + i);
                await().atMost(WAIT).until(() -> rowsOf(topic) == 3);

                proxy.cut();
                produce(topic, 3, i -> i == 1 ? "poison-during" : "during-" + i);
                // Each retry decodes the batch again: wait for several of them.
                await().atMost(WAIT).until(() -> transientPauses(runtime) >= 3);
                proxy.restore();

                await().atMost(WAIT).until(() -> rowsOf(topic) == 5);
                await().atMost(WAIT).until(() -> committedOffsets(runtime, topic) == 6);
                assertThat(distinctOf(topic)).isEqualTo(5);
                String dlq = DeadLetters.topicOf(topic);
                assertThat(KafkaTopics.read(dlq, 1, Duration.ofSeconds(30)))
                        .extracting(ConsumerRecord::value)
                        .containsExactly("poison-during");
                assertThat(KafkaTopics.endOffsets(dlq).values().stream()
                                .mapToLong(Long::longValue)
                                .sum())
                        .isEqualTo(1L);
                assertThat(runtime.registry().scrape())
                        .containsPattern("ragline_consumer_records_total\\{[^}]*outcome=\"dead_lettered\"[^}]*} 1.0");
            }
        }
    }

    private static double transientPauses(WorkerRuntime runtime) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                        "ragline_consumer_pauses_total\\{[^}]*kind=\"transient\"[^}]*} ([0-9.eE+]+)")
                .matcher(runtime.registry().scrape());
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }

    // --- helpers ---

    private static WorkerRuntime start(Map<String, String> env, String topic, BatchWriter<String> writer) {
        return start(env, topic, writer, b -> b);
    }

    private static WorkerRuntime start(
            Map<String, String> env,
            String topic,
            BatchWriter<String> writer,
            java.util.function.UnaryOperator<ConsumerBinding<String>> binding) {
        Map<String, String> all = new HashMap<>(env);
        all.put("RAGLINE_ADMIN_PORT", "0");
        all.put("RAGLINE_GROUP_PREFIX", "it-" + UUID.randomUUID());
        String name = topic.substring(0, topic.indexOf('-'));
        WorkerRuntime runtime = WorkerRuntime.start("test-" + name, 0, new Env(all));
        runtime.consume(binding.apply(
                new ConsumerBinding<>(name + "-binding", List.of(topic), AppliedTable.decoder(), writer)));
        runtime.markStarted();
        return runtime;
    }

    private static com.zaxxer.hikari.HikariDataSource pool;

    @org.junit.jupiter.api.AfterAll
    static void closePool() {
        if (pool != null) {
            pool.close();
        }
    }

    private PostgresBatchSink<String> sink(String group) {
        if (pool == null) {
            pool = io.ragline.core.db.Database.pool(
                    io.ragline.core.config.DatabaseUrl.parse(db.databaseUrl())
                            .url()
                            .orElseThrow(),
                    db.schema(),
                    2,
                    "crash-test",
                    null);
        }
        return new PostgresBatchSink<>(
                pool,
                group,
                AppliedTable.writer(0),
                io.github.resilience4j.circuitbreaker.CircuitBreaker.ofDefaults("test"));
    }

    private static ConsumerLoop<String> loop(String topic, String group, BatchSink<String> sink) {
        org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer =
                io.ragline.core.kafka.KafkaClients.consumer(
                        KafkaTopics.bootstrapServers(),
                        io.ragline.core.kafka.KafkaSettings.from(new Env(Map.of())),
                        group,
                        group);
        return new ConsumerLoop<>(
                consumer,
                List.of(topic),
                AppliedTable.decoder(),
                sink,
                (r, e, n) -> {
                    throw new AssertionError("no dead letter expected");
                },
                FailurePolicy.defaults(),
                ConsumerLoop.Settings.of(Duration.ofMillis(100), Duration.ofSeconds(1), 3),
                java.time.Clock.systemUTC(),
                ConsumerMetrics.discarding(),
                e -> {});
    }

    /** Stands for the process dying: an Error no handler classifies, ending the loop's thread. */
    private static final class ProcessDied extends Error {
        ProcessDied() {
            super("simulated crash after the database commit");
        }
    }

    private static void produce(String topic, int count, java.util.function.IntFunction<String> value) {
        KafkaTopics.produce(topic, count, value);
    }

    private static long rowsOf(String topic) throws SQLException {
        return AppliedTable.rows(db, topic);
    }

    private static long distinctOf(String topic) throws SQLException {
        return AppliedTable.distinct(db, topic);
    }

    private static long committedOffsets(WorkerRuntime runtime, String topic) throws Exception {
        return committed(
                runtime.settings().kafka().groupPrefix() + "-" + topic.substring(0, topic.indexOf('-')) + "-binding",
                topic);
    }

    private static long committed(String group, String topic) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()))) {
            return admin
                    .listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get(10, TimeUnit.SECONDS)
                    .entrySet()
                    .stream()
                    .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                    .mapToLong(e -> e.getValue().offset())
                    .sum();
        }
    }

    private static int ready(HttpClient http, WorkerRuntime runtime) throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.adminPort() + "/health/ready"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .statusCode();
    }

    private static String header(ConsumerRecord<String, String> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
