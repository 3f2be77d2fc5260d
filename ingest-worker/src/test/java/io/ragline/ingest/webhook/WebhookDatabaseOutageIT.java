package io.ragline.ingest.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TcpProxy;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The database cut away under the receiver (a TCP proxy, the shared server keeps running). */
class WebhookDatabaseOutageIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static TcpProxy proxy;
    static WorkerRuntime runtime;
    static WebhookClient client;

    @BeforeAll
    static void start() {
        proxy = TcpProxy.forDatabase();
        Map<String, String> env = new HashMap<>(db.env());
        env.put("DATABASE_URL", proxy.databaseUrl());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0");
        env.put("RAGLINE_WEBHOOK_DB_TIMEOUT", "1s");
        env.put("RAGLINE_WEBHOOK_APP_SCHEME", "standard");
        env.put("RAGLINE_WEBHOOK_APP_SECRET", WebhookClient.STANDARD_SECRET);
        Env e = new Env(env);
        runtime = WorkerRuntime.start("webhook-outage-it", 0, e);
        WebhookServer server = runtime.manage(WebhookServer.start(runtime, WebhookSettings.from(e, 8081)));
        client = new WebhookClient(server.port());
    }

    @AfterAll
    static void stop() {
        if (runtime != null) {
            runtime.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void whileTheDatabaseIsDownSendersGet503AndTheirRetryIsStoredOnceAfterwards() throws Exception {
        assertThat(client.send(client.standard("app", "before", "{\"type\":\"t\"}"))
                        .statusCode())
                .isEqualTo(200);

        proxy.cut();
        long started = System.nanoTime();
        HttpResponse<String> down = client.send(client.standard("app", "during", "{\"type\":\"t\"}"));
        Duration answeredIn = Duration.ofNanos(System.nanoTime() - started);
        HttpResponse<String> stillDown = client.send(client.standard("app", "during", "{\"type\":\"t\"}"));

        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).contains("not stored");
        assertThat(down.headers().firstValue("Retry-After")).isPresent();
        assertThat(stillDown.statusCode()).isEqualTo(503);
        assertThat(answeredIn).isLessThan(Duration.ofSeconds(10));
        // Read past the proxy: nothing was written.
        assertThat(db.queryValue("select count(*) from claude_events where delivery_id = 'during'"))
                .isEqualTo(0L);

        proxy.restore();
        // The sender retries (same id, fresh signature) until it is told the webhook is stored.
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> client.send(client.standard("app", "during", "{\"type\":\"t\"}"))
                                .statusCode()
                        == 200);
        assertThat(client.send(client.standard("app", "during", "{\"type\":\"t\"}"))
                        .body())
                .isEqualTo("{\"status\":\"duplicate\"}");

        assertThat(db.queryValue("select count(*) from claude_events where delivery_id = 'during'"))
                .isEqualTo(1L);
        assertThat(db.queryValue("select count(*) from outbox where key = 'app/during'"))
                .isEqualTo(1L);
        assertThat(runtime.registry().scrape())
                .containsPattern("ragline_webhook_requests_total\\{[^}]*source=\"app\",status=\"503\"} [1-9]");
    }
}
