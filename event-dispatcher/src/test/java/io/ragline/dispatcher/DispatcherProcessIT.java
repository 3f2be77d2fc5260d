package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.dispatcher.outbox.OutboxPublisher;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Real dispatcher processes killed with SIGKILL: nothing lost, duplicates marked by their id. */
class DispatcherProcessIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final HttpClient http = HttpClient.newHttpClient();

    @Test
    void killedMidBatchAndRestartedItLosesNothingAndMarksItsDuplicates() throws Exception {
        String topic = KafkaTopics.create("killed", 3);
        int rows = 20_000;
        insert(topic, 0, rows);

        Dispatcher first = Dispatcher.start(Map.of("RAGLINE_OUTBOX_BATCH", "200"));
        await().atMost(Duration.ofSeconds(90)).until(() -> outboxRows() < rows);
        first.process.kill();
        first.process.waitFor(20);
        long left = outboxRows();

        Dispatcher second = Dispatcher.start(Map.of());
        await().atMost(Duration.ofSeconds(120)).until(() -> outboxRows() == 0);
        second.process.terminate();
        assertThat(second.process.waitFor(30)).isZero();

        // Everything the topic holds, duplicates included.
        List<ConsumerRecord<String, String>> records = KafkaTopics.readAll(topic, Duration.ofSeconds(60));
        Map<Long, Long> perId =
                records.stream().collect(Collectors.groupingBy(DispatcherProcessIT::outboxId, Collectors.counting()));
        assertThat(perId).hasSize(rows); // every row arrived; any extra copy carries the same id
        assertThat(left).as("the kill left rows behind for the restart").isPositive();
    }

    @Test
    void ofTwoDispatchersOneLeadsAndTheOtherTakesOverWhenItIsKilled() throws Exception {
        String topic = KafkaTopics.create("failover", 3);
        Dispatcher a = Dispatcher.start(Map.of());
        Dispatcher b = Dispatcher.start(Map.of());
        await().atMost(Duration.ofSeconds(60)).until(() -> a.leader() + b.leader() == 1);
        Dispatcher leader = a.leader() == 1 ? a : b;
        Dispatcher standby = leader == a ? b : a;

        insert(topic, 0, 1000);
        await().atMost(Duration.ofSeconds(60)).until(() -> outboxRows() == 0);
        leader.process.kill();
        insert(topic, 1000, 1000);

        await().atMost(Duration.ofSeconds(60)).until(() -> standby.leader() == 1);
        await().atMost(Duration.ofSeconds(60)).until(() -> outboxRows() == 0);
        standby.process.terminate();
        assertThat(standby.process.waitFor(30)).isZero();
        List<ConsumerRecord<String, String>> records = KafkaTopics.read(topic, 2000, Duration.ofSeconds(60));
        assertThat(records.stream()
                        .map(DispatcherProcessIT::outboxId)
                        .distinct()
                        .count())
                .isEqualTo(2000);
    }

    @Test
    void aStandbyTakingOverMidBatchKeepsEveryKeysOrder() throws Exception {
        String topic = KafkaTopics.create("midbatch", 3);
        Map<String, String> small = Map.of("RAGLINE_OUTBOX_BATCH", "100");
        Dispatcher a = Dispatcher.start(small);
        Dispatcher b = Dispatcher.start(small);
        await().atMost(Duration.ofSeconds(60)).until(() -> a.leader() + b.leader() == 1);
        Dispatcher leader = a.leader() == 1 ? a : b;
        Dispatcher standby = leader == a ? b : a;
        int rows = 20_000;
        insert(topic, 0, rows);
        await().atMost(Duration.ofSeconds(60)).until(() -> outboxRows() < rows - 1000);
        leader.process.kill();

        await().atMost(Duration.ofSeconds(120)).until(() -> outboxRows() == 0);
        standby.process.terminate();
        assertThat(standby.process.waitFor(30)).isZero();
        assertEveryKeyInOrder(KafkaTopics.readAll(topic, Duration.ofSeconds(60)), rows);
    }

    @Test
    void aFrozenLeaderIsReplacedAndPublishesNothingOutOfOrderWhenItWakes() throws Exception {
        String topic = KafkaTopics.create("frozen", 3);
        Map<String, String> small = Map.of("RAGLINE_OUTBOX_BATCH", "100");
        Dispatcher a = Dispatcher.start(small);
        Dispatcher b = Dispatcher.start(small);
        await().atMost(Duration.ofSeconds(60)).until(() -> a.leader() + b.leader() == 1);
        Dispatcher leader = a.leader() == 1 ? a : b;
        Dispatcher standby = leader == a ? b : a;
        int rows = 20_000;
        insert(topic, 0, rows);
        await().atMost(Duration.ofSeconds(60)).until(() -> outboxRows() < rows - 1000);
        signal("STOP", leader); // a GC pause longer than the lease, or a hung VM

        await().atMost(Duration.ofSeconds(60)).until(() -> standby.leader() == 1);
        await().atMost(Duration.ofSeconds(120)).until(() -> outboxRows() == 0);
        signal("CONT", leader);
        insert(topic, rows, 1000);
        await().atMost(Duration.ofSeconds(60)).until(() -> outboxRows() == 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> leader.leader() == 0 && standby.leader() == 1);
        leader.process.terminate();
        standby.process.terminate();
        assertThat(leader.process.waitFor(30)).isZero();
        assertThat(standby.process.waitFor(30)).isZero();

        assertThat(leader.process.stdout() + leader.process.stderr()).containsAnyOf("fenced", "lost the outbox lease");
        assertEveryKeyInOrder(KafkaTopics.readAll(topic, Duration.ofSeconds(60)), rows + 1000);
    }

    private static void signal(String signal, Dispatcher d) throws Exception {
        Process kill = new ProcessBuilder(
                        "kill", "-" + signal, Long.toString(d.process.process().pid()))
                .inheritIO()
                .start();
        assertThat(kill.waitFor()).isZero();
    }

    /**
     * What a consumer that drops duplicates sees (a record whose outbox id is not above the last
     * one of its key): every row once, each key's rows in the order they were written.
     */
    private static void assertEveryKeyInOrder(List<ConsumerRecord<String, String>> records, int rows) {
        Map<String, Long> lastId = new HashMap<>();
        Map<String, Integer> lastN = new HashMap<>();
        int delivered = 0;
        for (ConsumerRecord<String, String> r : records) {
            long id = outboxId(r);
            if (id <= lastId.getOrDefault(r.key(), 0L)) {
                continue; // a duplicate: published again after a failover
            }
            int n = Integer.parseInt(r.value().replaceAll("\\D", ""));
            int previous = lastN.getOrDefault(r.key(), -1);
            assertThat(n).as("key %s after %s", r.key(), previous).isGreaterThan(previous);
            lastId.put(r.key(), id);
            lastN.put(r.key(), n);
            delivered++;
        }
        assertThat(delivered).isEqualTo(rows);
    }

    /** A dispatcher process and its admin port. */
    record Dispatcher(JavaProcess process, int adminPort) {
        static Dispatcher start(Map<String, String> extra) throws Exception {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Map<String, String> env = ProducersUnderTest.apply(new HashMap<>(db.env()));
            env.put("RAGLINE_ADMIN_PORT", String.valueOf(port));
            env.putAll(extra);
            return new Dispatcher(JavaProcess.start(List.of(), EventDispatcher.class.getName(), env), port);
        }

        /** 1 when this process holds the outbox lease, 0 when it stands by or does not answer. */
        int leader() {
            try {
                String metrics = http.send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body();
                return metrics.lines().anyMatch(l -> l.startsWith("ragline_outbox_leader{") && l.endsWith(" 1.0"))
                        ? 1
                        : 0;
            } catch (Exception notUp) {
                return 0;
            }
        }
    }

    private static void insert(String topic, int from, int count) throws Exception {
        try (Connection c = db.connect();
                PreparedStatement s =
                        c.prepareStatement("insert into outbox (topic, key, payload) values (?, ?, ?::jsonb)")) {
            c.setAutoCommit(false);
            for (int i = from; i < from + count; i++) {
                s.setString(1, topic);
                s.setString(2, "k" + (i % 50));
                s.setString(3, "{\"n\":" + i + "}");
                s.addBatch();
                if (i % 1000 == 999) {
                    s.executeBatch();
                }
            }
            s.executeBatch();
            c.commit();
        }
    }

    private static long outboxRows() throws Exception {
        return (long) db.queryValue("select count(*) from outbox");
    }

    static long outboxId(ConsumerRecord<String, String> r) {
        return Long.parseLong(
                new String(r.headers().lastHeader(OutboxPublisher.OUTBOX_ID).value(), StandardCharsets.UTF_8));
    }
}
