package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.devstack.kafka.LocalKafka;
import io.ragline.testkit.PostgresSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kafka down for a while. A broker of this test's own (devstack's KRaft broker in a temporary
 * directory) is stopped and started again, so the broker other tests share is never touched.
 */
class KafkaOutageIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static Path brokerDir;
    static LocalKafka broker;
    static String bootstrap;

    @BeforeAll
    static void startBroker() throws Exception {
        brokerDir = Files.createTempDirectory("ragline-outage-kafka");
        broker = new LocalKafka(brokerDir, message -> {});
        bootstrap = broker.start();
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.stop();
        }
    }

    @Test
    void theBacklogGrowsWhileKafkaIsDownAndDrainsAfterwardsWithNothingLost() throws Exception {
        String topic = createTopic("outage");
        try (WorkerRuntime runtime = dispatcher(Map.of("RAGLINE_OUTBOX_PUBLISH_TIMEOUT", "5s"))) {
            insert(topic, 0, 100);
            await().atMost(Duration.ofSeconds(60)).until(() -> outboxRows() == 0);

            broker.stop();
            insert(topic, 100, 400);
            await().atMost(Duration.ofSeconds(60)).until(() -> publishFailures(runtime) > 0);
            assertThat(outboxRows()).isEqualTo(400);
            Thread.sleep(10_000); // the outage lasts ten seconds
            broker.start();

            await().atMost(Duration.ofSeconds(120)).until(() -> outboxRows() == 0);
        }
        assertThat(distinctMessages(topic, 500)).isEqualTo(500);
    }

    /**
     * With the default publish timeout (30 s) a send outlives {@code max.block.ms} (10 s), so a
     * batch whose commit is under way when Kafka stops answering fails in {@code
     * commitTransaction()} with a timeout: its outcome is unknown, and the producer refuses to
     * abort or to begin again until that commit is retried. The relay must drop that producer and
     * send the batch again. The broker is frozen (SIGSTOP), not stopped: its connections stay
     * open, so the producer keeps the topic's metadata and the outage lands in the commit.
     */
    @Test
    void aCommitThatTimesOutWhileKafkaHangsIsSentAgainWhenKafkaAnswers() throws Exception {
        String topic = createTopic("commit-timeout");
        try (WorkerRuntime runtime = dispatcher(Map.of())) {
            insert(topic, 0, 100);
            await().atMost(Duration.ofSeconds(60)).until(() -> outboxRows() == 0);

            long frozen = System.nanoTime();
            signalBroker("STOP");
            try {
                insert(topic, 100, 400);
                await().atMost(Duration.ofSeconds(60)).until(() -> publishFailures(runtime) > 0);
                assertThat(outboxRows()).isEqualTo(400);
                long left = Duration.ofSeconds(15).toNanos() - (System.nanoTime() - frozen);
                Thread.sleep(Math.max(0, left / 1_000_000)); // the outage lasts about fifteen seconds
            } finally {
                signalBroker("CONT");
            }

            await().atMost(Duration.ofSeconds(60)).until(() -> outboxRows() == 0);
        }
        assertThat(distinctMessages(topic, 500)).isEqualTo(500);
    }

    /** Sends {@code signal} to this test's broker process (its pid file is LocalKafka's). */
    private static void signalBroker(String signal) throws Exception {
        String pid = Files.readString(brokerDir.resolve("kafka/pid")).strip().split("\\s+")[0];
        Process kill = new ProcessBuilder("kill", "-" + signal, pid).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -%s %s", signal, pid).isZero();
    }

    private static String createTopic(String base) throws Exception {
        String topic = base + "-" + UUID.randomUUID().toString().substring(0, 8);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        return topic;
    }

    /** A dispatcher on this test's broker, with {@code extra} settings. */
    private static WorkerRuntime dispatcher(Map<String, String> extra) {
        Map<String, String> env = ProducersUnderTest.apply(new HashMap<>(db.env()));
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.putAll(extra);
        Env e = new Env(env);
        var wiring = EventDispatcher.wiring(e);
        e.validate();
        WorkerRuntime runtime = WorkerRuntime.start(EventDispatcher.NAME, 0, e);
        wiring.accept(runtime);
        return runtime;
    }

    private static double publishFailures(WorkerRuntime runtime) {
        return runtime.registry()
                .scrape()
                .lines()
                .filter(l -> l.startsWith("ragline_outbox_publish_failures_total"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    private static void insert(String topic, int from, int count) throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload) select '" + topic + "', 'k' || (n % 7),"
                    + " jsonb_build_object('n', n) from generate_series(" + from + ", " + (from + count - 1)
                    + ") n");
        }
    }

    private static long outboxRows() throws Exception {
        return (long) db.queryValue("select count(*) from outbox");
    }

    private static long distinctMessages(String topic, int expected) {
        Map<String, Object> props = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG,
                "outage-reader-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest");
        java.util.Set<String> values = new java.util.HashSet<>();
        try (KafkaConsumer<String, String> c =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
        }
        return values.size();
    }
}
