package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Migrations;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Real dispatcher processes killed with SIGKILL: nothing lost, duplicates marked by their id. */
class DispatcherProcessIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void migrate() throws Exception {
        new Migrations(DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), "test").migrate();
    }

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
        int total = (int) KafkaTopics.endOffsets(topic).values().stream()
                .mapToLong(Long::longValue)
                .sum();
        List<ConsumerRecord<String, String>> records = KafkaTopics.read(topic, total, Duration.ofSeconds(60));
        assertThat(records).hasSize(total);
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

    /** A dispatcher process and its admin port. */
    record Dispatcher(JavaProcess process, int adminPort) {
        static Dispatcher start(Map<String, String> extra) throws Exception {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Map<String, String> env = new HashMap<>(db.env());
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
