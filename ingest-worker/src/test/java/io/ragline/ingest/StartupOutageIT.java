package io.ragline.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.ingest.routing.EventRouting;
import io.ragline.ingest.webhook.WebhookServer;
import io.ragline.ingest.webhook.WebhookSettings;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TcpProxy;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The ingest-worker's own start-up reads (whether the schema's migrations are all applied, before
 * webhooks are served; the routing_rules table, before routing) come after the runtime reached
 * Postgres: an outage that begins between the two is waited out within {@code
 * RAGLINE_STARTUP_WAIT}, as the runtime's own steps are, instead of exiting 1 (the chaos soak saw a
 * worker restarted during a Postgres cut exit so). A TCP proxy cuts the shared test database away
 * and restores it 2 s later.
 */
class StartupOutageIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    TcpProxy proxy;
    WorkerRuntime runtime;
    Env env;
    final ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();

    @BeforeEach
    void start() {
        proxy = TcpProxy.forDatabase();
        Map<String, String> vars = new HashMap<>(db.env());
        vars.put("DATABASE_URL", proxy.databaseUrl(db.databaseUrl()));
        vars.put("RAGLINE_ADMIN_PORT", "0");
        vars.put("RAGLINE_HTTP_PORT", "0");
        vars.put(
                "RAGLINE_TOPIC_PREFIX", "startup" + UUID.randomUUID().toString().substring(0, 8) + ".");
        vars.put("RAGLINE_DB_CONNECT_TIMEOUT", "2s");
        env = new Env(vars);
        runtime = WorkerRuntime.start("startup-outage-it", 0, env);
    }

    @AfterEach
    void stop() {
        later.shutdownNow();
        if (runtime != null) {
            runtime.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void theWebhookServerStartsOnceADatabaseThatWentAwayAfterTheRuntimeStartedIsBack() {
        WebhookSettings settings = WebhookSettings.from(env, 8081);
        proxy.cut();
        later.schedule(proxy::restore, 2, TimeUnit.SECONDS);
        long began = System.nanoTime();

        WebhookServer server = runtime.manage(WebhookServer.start(runtime, settings));

        assertThat(server.port()).isPositive();
        assertThat(Duration.ofNanos(System.nanoTime() - began))
                .as("it waited for the database rather than finding it")
                .isGreaterThan(Duration.ofMillis(1500));
    }

    @Test
    void aRuntimeClosedWhileTheWebhookServerWaitsForTheDatabaseStopsWaiting() throws Exception {
        WebhookSettings settings = WebhookSettings.from(env, 8081);
        proxy.cut(); // and never restored: only the close can end the wait before its minute
        var starting = java.util.concurrent.CompletableFuture.supplyAsync(() -> WebhookServer.start(runtime, settings));
        await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> !starting.isDone());

        runtime.close();

        await().atMost(Duration.ofSeconds(15))
                .alias("given up within a pause of the wait (at most 4 s) after the close")
                .until(starting::isDone);
        assertThat(starting).isCompletedExceptionally();
    }

    @Test
    void routingStartsOnceADatabaseThatWentAwayAfterTheRuntimeStartedIsBack() {
        var routing = EventRouting.wiring(env, 1 << 20);
        proxy.cut();
        later.schedule(proxy::restore, 2, TimeUnit.SECONDS);
        long began = System.nanoTime();

        routing.accept(runtime);

        assertThat(Duration.ofNanos(System.nanoTime() - began))
                .as("it waited for the database rather than finding it")
                .isGreaterThan(Duration.ofMillis(1500));
        assertThat(runtime.markStarted()).isTrue();
    }
}
