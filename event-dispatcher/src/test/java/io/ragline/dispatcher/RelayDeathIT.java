package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.lifecycle.Lifecycle;
import io.ragline.dispatcher.outbox.OutboxRelay;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The outbox relay's thread killed by an {@link Error} (injected into its producer's {@code send},
 * on that thread) is noticed: readiness answers 503 naming it, the process stops with exit status
 * 1, and the row it was publishing stays in the outbox for the next leader.
 */
class RelayDeathIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Duration WAIT = Duration.ofSeconds(60);
    static final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aRelayThreadKilledByAnErrorTurnsReadiness503NamingItAndStopsTheRuntimeWithExitCodeOne() throws Exception {
        String topic = KafkaTopics.create("relaydies", 1);
        Env env = new Env(values(Map.of()));
        var wiring = EventDispatcher.wiring(env, p -> DyingProducer.on(topic, p));
        env.validate();
        CountDownLatch readinessRead = new CountDownLatch(1);
        WorkerRuntime runtime = WorkerRuntime.start(EventDispatcher.NAME, 0, env);
        try {
            // Registered before the relay, so closed after it: the failed runtime keeps its admin
            // server up until the test has read readiness.
            runtime.manage(() -> readinessRead.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            wiring.accept(runtime);
            runtime.markStarted();
            await().atMost(WAIT).until(() -> ready(runtime).statusCode() == 200);

            insert(topic);

            await().atMost(WAIT).until(() -> ready(runtime).statusCode() == 503);
            assertThat(ready(runtime).body())
                    .contains("\"threads\":\"" + OutboxRelay.RELAY + " died: AssertionError: " + DyingProducer.MESSAGE)
                    .contains("\"started\":\"failed: AssertionError");
            readinessRead.countDown();
            await().atMost(WAIT).until(() -> runtime.state() == Lifecycle.State.STOPPED);
            assertThat(runtime.exitCode()).isEqualTo(1);
            assertThat(outboxRows()).as("the row waits for the next leader").isEqualTo(1);
        } finally {
            readinessRead.countDown();
            runtime.close();
            clearOutbox();
        }
    }

    @Test
    void aDispatcherProcessWhoseRelayThreadDiesExitsWithStatusOneAndLogsTheDeathOnce() throws Exception {
        String topic = KafkaTopics.create("relaydiesproc", 1);
        insert(topic);
        Map<String, String> extra = Map.of("FIXTURE_DYING_TOPIC", topic);

        JavaProcess dispatcher = JavaProcess.start(List.of(), DyingRelayMain.class.getName(), values(extra));

        assertThat(dispatcher.waitFor(WAIT.toSeconds())).as(dispatcher.stdout()).isEqualTo(1);
        assertThat(dispatcher.stdout() + dispatcher.stderr())
                .containsOnlyOnce(OutboxRelay.RELAY + " died: java.lang.AssertionError: " + DyingProducer.MESSAGE)
                .contains("ERROR");
        assertThat(outboxRows()).as("the row waits for the next leader").isEqualTo(1);
        clearOutbox();
    }

    private static Map<String, String> values(Map<String, String> extra) {
        Map<String, String> values = ProducersUnderTest.apply(new HashMap<>(db.env()));
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.putAll(extra);
        return values;
    }

    private static HttpResponse<String> ready(WorkerRuntime runtime) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.adminPort() + "/health/ready"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void insert(String topic) throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload) values ('" + topic + "', 'k', '{\"n\":1}')");
        }
    }

    private static long outboxRows() throws Exception {
        return (long) db.queryValue("select count(*) from outbox");
    }

    private static void clearOutbox() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("delete from outbox");
        }
    }
}
