package io.ragline.ingest.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TcpProxy;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
    static Env env;
    static WebhookClient client;

    @BeforeAll
    static void start() {
        proxy = TcpProxy.forDatabase();
        Map<String, String> env = new HashMap<>(db.env());
        env.put("DATABASE_URL", proxy.databaseUrl(db.databaseUrl()));
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0");
        env.put("RAGLINE_WEBHOOK_DB_TIMEOUT", "1s");
        env.put("RAGLINE_WEBHOOK_APP_SCHEME", "standard");
        env.put("RAGLINE_WEBHOOK_APP_SECRET", WebhookClient.STANDARD_SECRET);
        WebhookDatabaseOutageIT.env = new Env(env);
        runtime = WorkerRuntime.start("webhook-outage-it", 0, WebhookDatabaseOutageIT.env);
        WebhookServer server =
                runtime.manage(WebhookServer.start(runtime, WebhookSettings.from(WebhookDatabaseOutageIT.env, 8081)));
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

    @Test
    void aDatabaseThatWentSilentIsAnswered503WithinTheTimeoutNotTheSendersOwn() throws Exception {
        storedAgain("silent-before");

        proxy.blackhole(); // no reset, no refusal: connections and statements just get no answer
        try {
            long started = System.nanoTime();
            HttpResponse<String> down = client.send(client.standard("app", "silent-during", "{\"type\":\"t\"}"));
            Duration answeredIn = Duration.ofNanos(System.nanoTime() - started);

            assertThat(down.statusCode()).isEqualTo(503);
            assertThat(down.headers().firstValue("Retry-After")).isPresent();
            // RAGLINE_WEBHOOK_DB_TIMEOUT=1s, plus room for a busy machine; GitHub gives up at 10 s.
            assertThat(answeredIn).isLessThan(Duration.ofSeconds(4));
        } finally {
            proxy.restore();
        }
        storedAgain("silent-during");
        assertThat(db.queryValue("select count(*) from claude_events where delivery_id = 'silent-during'"))
                .isEqualTo(1L);
    }

    @Test
    void aBurstDuringASilentOutageIsAnswered503PromptlyAndEveryRetryIsStoredOnceAfterwards() throws Exception {
        storedAgain("burst-before");
        int senders = 64; // eight times the threads: each waiting out the timeout would take 8 s
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(senders);
        try {
            proxy.blackhole();
            List<Future<HttpResponse<String>>> during = new ArrayList<>();
            long started = System.nanoTime();
            for (int i = 0; i < senders; i++) {
                String id = "burst-" + i;
                during.add(pool.submit(() -> client.send(client.standard("app", id, "{\"type\":\"t\"}"))));
            }
            for (int i = 0; i < senders; i++) {
                HttpResponse<String> r = during.get(i).get(30, TimeUnit.SECONDS);
                if (r.statusCode() == 200) {
                    acknowledged.add("burst-" + i);
                }
                assertThat(r.statusCode()).as("burst-" + i).isIn(200, 503);
            }
            Duration allAnsweredIn = Duration.ofNanos(System.nanoTime() - started);
            assertThat(acknowledged).isEmpty();
            assertThat(allAnsweredIn).isLessThan(Duration.ofSeconds(5));

            proxy.restore();
            // Every sender retries (same id, fresh signature) until it is told its webhook is stored.
            List<CompletableFuture<Void>> retries = new ArrayList<>();
            for (int i = 0; i < senders; i++) {
                String id = "burst-" + i;
                retries.add(CompletableFuture.runAsync(
                        () -> {
                            await().atMost(Duration.ofSeconds(60))
                                    .pollInterval(Duration.ofMillis(200))
                                    .until(() -> client.send(client.standard("app", id, "{\"type\":\"t\"}"))
                                                    .statusCode()
                                            == 200);
                            acknowledged.add(id);
                        },
                        pool));
            }
            CompletableFuture.allOf(retries.toArray(CompletableFuture[]::new)).get(90, TimeUnit.SECONDS);
        } finally {
            proxy.restore();
            pool.shutdownNow();
        }

        assertThat(acknowledged).hasSize(senders);
        for (String id : acknowledged) {
            assertThat(db.queryValue("select count(*) from claude_events where delivery_id = '" + id + "'"))
                    .as(id)
                    .isEqualTo(1L);
            assertThat(db.queryValue("select count(*) from outbox where key = 'app/" + id + "'"))
                    .as(id)
                    .isEqualTo(1L);
        }
    }

    @Test
    void requestsBeyondTheThreadsAndTheQueueAre503AtOnceWhileTheAcceptedOnesFinish() throws Exception {
        Map<String, String> vars = new HashMap<>(env.all());
        vars.put("RAGLINE_WEBHOOK_THREADS", "1");
        vars.put("RAGLINE_WEBHOOK_DB_TIMEOUT", "30s");
        WebhookSettings settings = WebhookSettings.from(new Env(vars), 8081);
        int queue = 2;
        int senders = 10;
        ExecutorService pool = Executors.newFixedThreadPool(senders);
        try (WebhookServer busy = WebhookServer.start(runtime, settings, queue);
                Connection lock = db.connect();
                Statement s = lock.createStatement()) {
            WebhookClient to = new WebhookClient(busy.port());
            assertThat(to.send(to.standard("app", "busy-warm", "{\"type\":\"t\"}"))
                            .statusCode())
                    .isEqualTo(200);
            // Inserts wait for this lock: the one thread is taken, then the queue fills.
            lock.setAutoCommit(false);
            s.execute("lock table claude_events in access exclusive mode");

            List<Future<HttpResponse<String>>> sent = new ArrayList<>();
            for (int i = 0; i < senders; i++) {
                String id = "busy-" + i;
                sent.add(pool.submit(() -> to.send(to.standard("app", id, "{\"type\":\"t\"}"))));
            }
            int overflow = senders - 1 - queue;
            // Answered while the lock is still held: the server kept accepting.
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> sent.stream().filter(Future::isDone).count() >= overflow);
            List<HttpResponse<String>> early = new ArrayList<>();
            for (Future<HttpResponse<String>> f : sent) {
                if (f.isDone()) {
                    early.add(f.get());
                }
            }
            assertThat(early).hasSize(overflow).allSatisfy(r -> {
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.headers().firstValue("Retry-After")).isPresent();
                assertThat(r.body()).contains("not stored");
            });

            lock.rollback();
            List<Integer> statuses = new ArrayList<>();
            for (Future<HttpResponse<String>> f : sent) {
                statuses.add(f.get(30, TimeUnit.SECONDS).statusCode());
            }
            assertThat(statuses).filteredOn(c -> c == 200).hasSize(1 + queue);
            assertThat(statuses).filteredOn(c -> c == 503).hasSize(overflow);
            assertThat(db.queryValue("select count(*) from claude_events where delivery_id like 'busy-_'"))
                    .isEqualTo((long) (1 + queue));
        } finally {
            pool.shutdownNow();
        }
    }

    /** Sends {@code id} until it is stored (after an outage the first attempts may still be 503). */
    private static void storedAgain(String id) {
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> client.send(client.standard("app", id, "{\"type\":\"t\"}"))
                                .statusCode()
                        == 200);
    }
}
