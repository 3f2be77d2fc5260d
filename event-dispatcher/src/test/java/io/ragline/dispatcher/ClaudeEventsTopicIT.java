package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A row inserted into {@code claude_events} by plain SQL (as psql, PostgREST or pg_cron would)
 * reaches the {@code claude_events} topic through the V5 trigger and the dispatcher, with the
 * topic prefix applied. The webhook receiver inserts the same way, so this is its path too.
 */
class ClaudeEventsTopicIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    WorkerRuntime runtime;

    @AfterEach
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void aRowInsertedBySqlIsPublishedToThePrefixedClaudeEventsTopicOnce() throws Exception {
        String prefix = "t" + UUID.randomUUID().toString().substring(0, 8) + ".";
        // KafkaTopics.create appends a random suffix; the prefix makes this name unique instead.
        String topic = createExactly(prefix + "claude_events");
        Map<String, String> env = ProducersUnderTest.apply(new HashMap<>(db.env()));
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        Env e = new Env(env);
        var wiring = EventDispatcher.wiring(e);
        runtime = WorkerRuntime.start(EventDispatcher.NAME, 0, e);
        wiring.accept(runtime);

        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into claude_events (source, delivery_id, event_type, payload, priority)"
                    + " values ('cron', 'nightly-7', 'reindex', '{\"collection\":\"default\"}', 2)");
            // A repeated delivery inserts nothing, so it publishes nothing.
            s.execute("insert into claude_events (source, delivery_id, event_type, payload) values ('cron',"
                    + " 'nightly-7', 'reindex', '{}') on conflict (source, delivery_id) do nothing");
        }

        List<ConsumerRecord<String, String>> records = KafkaTopics.read(topic, 2, Duration.ofSeconds(8));

        assertThat(records).hasSize(1);
        ConsumerRecord<String, String> r = records.get(0);
        JsonNode value = new ObjectMapper().readTree(r.value());
        assertThat(r.key()).isEqualTo("cron/nightly-7");
        assertThat(value.get("schema_version").asInt()).isEqualTo(1);
        assertThat(value.get("source").asText()).isEqualTo("cron");
        assertThat(value.get("delivery_id").asText()).isEqualTo("nightly-7");
        assertThat(value.get("event_type").asText()).isEqualTo("reindex");
        assertThat(value.get("priority").asInt()).isEqualTo(2);
        assertThat(value.get("payload").get("collection").asText()).isEqualTo("default");
        assertThat(new String(r.headers().lastHeader("ragline.event.type").value(), StandardCharsets.UTF_8))
                .isEqualTo("reindex");
        await().atMost(Duration.ofSeconds(15)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
    }

    private static String createExactly(String name) throws Exception {
        try (var admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(name, 1, (short) 1)))
                    .all()
                    .get();
            await().atMost(Duration.ofSeconds(30))
                    .until(() ->
                            admin.describeTopics(List.of(name)).allTopicNames().get().get(name).partitions().stream()
                                    .allMatch(p -> p.leader() != null));
        }
        return name;
    }
}
