package io.ragline.ingest.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TcpProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The routing consumer with its database cut away (a TCP proxy; the shared server keeps running):
 * the batch is retried with backoff, nothing is skipped, and once the database is back the event
 * is routed once, its status and its outbox row together. The same with the database silent
 * instead of gone (no reset, nothing answered): the write fails within the socket timeout. The
 * messages are produced by the test from {@code claude_event_message}, as the dispatcher would.
 */
class RoutingOutageIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static TcpProxy proxy;
    static WorkerRuntime runtime;
    static String topic;
    static KafkaProducer<String, String> producer;

    @BeforeAll
    static void start() throws Exception {
        String prefix = "outage" + UUID.randomUUID().toString().substring(0, 8) + ".";
        topic = prefix + "claude_events";
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        Path rules = Files.createTempFile("outage-rules", ".json");
        rules.toFile().deleteOnExit();
        Files.writeString(
                rules,
                "{\"rules\":[{\"name\":\"notes\",\"match\":\"app/note\",\"action\":\"ingest_document\","
                        + "\"paths\":{\"id\":\"/delivery_id\",\"content\":\"/payload/text\"}}]}");
        proxy = TcpProxy.forDatabase();
        Map<String, String> env = new HashMap<>(db.env());
        env.put("DATABASE_URL", proxy.databaseUrl(db.databaseUrl()));
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_ROUTING_RULES", rules.toString());
        env.put("RAGLINE_RETRY_BACKOFF_INITIAL", "200ms");
        env.put("RAGLINE_RETRY_BACKOFF_MAX", "1s");
        env.put("RAGLINE_DB_SOCKET_TIMEOUT", "2s");
        env.put("RAGLINE_DB_CONNECT_TIMEOUT", "2s");
        Env e = new Env(env);
        var wiring = EventRouting.wiring(e, 1 << 20);
        e.validate();
        runtime = WorkerRuntime.start("routing-outage-it", 0, e);
        wiring.accept(runtime);
        producer = KafkaTopics.producer();
    }

    @AfterAll
    static void stop() {
        if (producer != null) {
            producer.close();
        }
        if (runtime != null) {
            runtime.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void whileTheDatabaseIsDownTheEventWaitsAndIsRoutedOnceWhenItReturns() throws Exception {
        publish("before", "Routed while the database is up.");
        awaitStatus("before", "processed");

        proxy.cut();
        publish("during", "Arrives while the database is unreachable.");
        await().atMost(Duration.ofSeconds(60))
                .until(() ->
                        runtime.registry().find("ragline.consumer.pauses").tag("kind", "transient").counters().stream()
                                        .mapToDouble(c -> c.count())
                                        .sum()
                                >= 2);
        assertThat(db.queryValue("select status from claude_events where delivery_id = 'during'"))
                .isEqualTo("received");
        proxy.restore();

        awaitStatus("during", "processed");
        assertThat(db.queryValue("select attempts || ' ' || (last_error is null) from claude_events"
                        + " where delivery_id = 'during'"))
                .isEqualTo("1 true");
        assertThat(db.queryValue("select count(*) from outbox where topic = 'documents' and key = 'default/during'"))
                .isEqualTo(1L);
        assertThat(db.queryValue("select payload->>'content' from outbox where key = 'default/during'"))
                .isEqualTo("Arrives while the database is unreachable.");
    }

    @Test
    void whileTheDatabaseIsSilentTheBatchFailsWithinTheSocketTimeoutAndIsRoutedOnceWhenItAnswers() throws Exception {
        publish("before-silence", "Routed while the database answers.");
        awaitStatus("before-silence", "processed");
        double pausesBefore = transientPauses();

        proxy.blackhole(); // no reset, no answer: a partition, a vanished host
        long started = System.nanoTime();
        publish("silent", "Arrives while the database says nothing.");
        // Without a socket timeout the batch's write would wait for ever and the loop with it.
        await().atMost(Duration.ofSeconds(30)).until(() -> transientPauses() > pausesBefore);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
        assertThat(db.queryValue("select status from claude_events where delivery_id = 'silent'"))
                .isEqualTo("received");
        proxy.restore();

        awaitStatus("silent", "processed");
        assertThat(db.queryValue("select attempts || ' ' || (last_error is null) from claude_events"
                        + " where delivery_id = 'silent'"))
                .isEqualTo("1 true");
        assertThat(db.queryValue("select count(*) from outbox where topic = 'documents' and key = 'default/silent'"))
                .isEqualTo(1L);
    }

    private static double transientPauses() {
        return runtime.registry().find("ragline.consumer.pauses").tag("kind", "transient").counters().stream()
                .mapToDouble(c -> c.count())
                .sum();
    }

    /** Inserts the event (its own outbox row stays: no dispatcher runs here) and produces its message. */
    private static void publish(String delivery, String text) throws Exception {
        String message;
        try (var c = db.connect();
                var s = c.prepareStatement("insert into claude_events (source, delivery_id, event_type, payload)"
                        + " values ('app', ?, 'note', jsonb_build_object('text', ?::text))"
                        + " returning claude_event_message(claude_events)::text")) {
            s.setString(1, delivery);
            s.setString(2, text);
            try (var rs = s.executeQuery()) {
                rs.next();
                message = rs.getString(1);
            }
        }
        producer.send(new ProducerRecord<>(topic, "app/" + delivery, message)).get();
    }

    private static void awaitStatus(String delivery, String status) {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> status.equals(
                        db.queryValue("select status from claude_events where delivery_id = '" + delivery + "'")));
    }
}
