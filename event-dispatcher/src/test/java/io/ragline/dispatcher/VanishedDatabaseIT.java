package io.ragline.dispatcher;

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
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A dispatcher whose database goes silent (a TCP proxy that swallows every byte and answers
 * nothing, as a partition or a vanished host does: no reset) notices within its socket timeout,
 * gives up its LISTEN connection and its lease, reports not ready, and once the database answers
 * again takes the lease back, LISTENs again and publishes every row once. Rows are written
 * straight to Postgres, past the proxy, as the other services would go on writing them.
 */
class VanishedDatabaseIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    /** The relay waits min(poll interval, lease TTL / 3) = 10 s for a doorbell before it looks again. */
    static final Duration QUIET_WAIT = Duration.ofSeconds(10);

    static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(2);

    TcpProxy proxy;
    WorkerRuntime runtime;

    @AfterEach
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void aSilentDatabaseIsNoticedWithinTheSocketTimeoutAndEveryRowIsPublishedOnceWhenItAnswersAgain() throws Exception {
        String topic = KafkaTopics.create("vanished", 1);
        proxy = TcpProxy.forDatabase();
        runtime = dispatcher();
        await().atMost(Duration.ofSeconds(30)).until(() -> OutboxRelayIT.isLeader(runtime));
        insert(topic, "before");
        await().atMost(Duration.ofSeconds(10)).until(() -> outboxRows() == 0);

        proxy.blackhole();
        Instant frozen = Instant.now();
        // The relay waits for a doorbell, then probes its LISTEN connection: no answer within the
        // socket timeout, and it is given up (without the probe only a later drain would fail).
        await().atMost(QUIET_WAIT.plus(SOCKET_TIMEOUT).plusSeconds(8))
                .until(() -> counter("ragline_outbox_listen_lost_total") >= 1);
        assertThat(OutboxRelayIT.isLeader(runtime))
                .as("a lease it cannot renew is not trusted")
                .isFalse();
        assertThat(readiness()).as("readiness while the database is silent").startsWith("503");
        for (int i = 0; i < 5; i++) {
            insert(topic, "during-" + i);
        }
        // Silent for more than twice the socket timeout: every retry meets the silence too.
        await().pollDelay(Duration.ofSeconds(1))
                .atMost(Duration.ofSeconds(30))
                .until(() -> Duration.between(frozen, Instant.now())
                                .compareTo(QUIET_WAIT.plus(SOCKET_TIMEOUT.multipliedBy(3)))
                        > 0);
        assertThat(outboxRows()).isEqualTo(5);

        proxy.restore();
        await().atMost(Duration.ofSeconds(40)).until(() -> outboxRows() == 0 && OutboxRelayIT.isLeader(runtime));
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(readiness()).startsWith("200"));

        // LISTEN is armed again: a row is published on its doorbell, well before the relay's next look.
        Instant inserted = Instant.now();
        insert(topic, "after");
        await().atMost(QUIET_WAIT.dividedBy(2)).until(() -> outboxRows() == 0);
        assertThat(Duration.between(inserted, Instant.now())).isLessThan(QUIET_WAIT.dividedBy(2));

        assertThat(KafkaTopics.readAll(topic, Duration.ofSeconds(30)))
                .extracting(ConsumerRecord::key)
                .containsExactly("before", "during-0", "during-1", "during-2", "during-3", "during-4", "after");
    }

    private WorkerRuntime dispatcher() {
        Map<String, String> env = ProducersUnderTest.apply(new HashMap<>(db.env()));
        env.put("DATABASE_URL", proxy.databaseUrl(db.databaseUrl()));
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_DB_SOCKET_TIMEOUT", SOCKET_TIMEOUT.toSeconds() + "s");
        env.put("RAGLINE_DB_CONNECT_TIMEOUT", "2s");
        env.put(DispatcherSettings.POLL_INTERVAL, "1m");
        env.put(DispatcherSettings.LEASE_TTL, QUIET_WAIT.multipliedBy(3).toSeconds() + "s");
        Env e = new Env(env);
        var wiring = EventDispatcher.wiring(e);
        e.validate();
        WorkerRuntime r = WorkerRuntime.start(EventDispatcher.NAME, 0, e);
        wiring.accept(r);
        assertThat(r.markStarted()).isTrue(); // as WorkerMain does: readiness's "started"
        return r;
    }

    private double counter(String name) {
        return OutboxRelayIT.gauge(runtime, name);
    }

    /** {@code /health/ready}'s status and body. */
    private String readiness() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + runtime.adminPort() + "/health/ready"))
                .timeout(Duration.ofSeconds(10))
                .build();
        HttpResponse<String> r = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    private static long outboxRows() throws Exception {
        return (long) db.queryValue("select count(*) from outbox");
    }

    private static void insert(String topic, String key) throws Exception {
        try (Connection c = db.connect();
                PreparedStatement s =
                        c.prepareStatement("insert into outbox (topic, key, payload) values (?, ?, '{}'::jsonb)")) {
            s.setString(1, topic);
            s.setString(2, key);
            s.execute();
        }
    }
}
