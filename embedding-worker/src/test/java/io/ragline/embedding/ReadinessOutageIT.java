package io.ragline.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TcpProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An embedding-worker's admin port answers while its database does not: the worker reaches
 * Postgres through a {@link TcpProxy} that the test black-holes (connections accepted, nothing
 * answered, as a dead route or a firewall that drops packets). Readiness reads which generations
 * serve from the database (ServingModels); that read must never hold {@code /health/ready}, {@code
 * /metrics} or {@code /health/live} (the admin server has two threads).
 */
class ReadinessOutageIT {
    static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    /**
     * {@code /health/ready}'s bound in the outage: the database probe's 2 s (DependencyChecks), the
     * serving models' read waited for 0.5 s at most, and the rest on a busy machine. The read on the
     * pool with no bound took the pool's 10 s connection timeout, twice a probe.
     */
    static final Duration READY_BOUND = Duration.ofSeconds(4);

    @Test
    void readinessAnswersWithinSecondsAndLivenessAndMetricsAtOnceWhileTheDatabaseHangs() throws Exception {
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8);
                TcpProxy proxy = TcpProxy.forDatabase();
                WorkerRuntime runtime = start(endpoint, proxy)) {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> get(runtime, "/health/ready").statusCode() == 200);
            try {
                proxy.blackhole();

                long start = System.nanoTime();
                CompletableFuture<HttpResponse<String>> ready =
                        CompletableFuture.supplyAsync(() -> get(runtime, "/health/ready"));
                Thread.sleep(300); // the readiness probe under way first (it waits 2 s on the database)
                HttpResponse<String> live = get(runtime, "/health/live");
                assertThat(live.statusCode()).isEqualTo(200);
                assertThat(ready.isDone())
                        .as(
                                "/health/live answered beside a readiness probe still waiting on the database (%s)",
                                since(start))
                        .isFalse();
                HttpResponse<String> first = ready.get(30, TimeUnit.SECONDS);
                assertThat(since(start)).as("/health/ready in the outage").isLessThan(READY_BOUND);
                assertThat(first.statusCode()).as(first.body()).isEqualTo(503);

                long scrape = System.nanoTime();
                assertThat(get(runtime, "/metrics").body()).contains("ragline_embedding_nonserving_models_failed");
                assertThat(since(scrape))
                        .as("/metrics in the outage")
                        .isLessThan(Duration.ofMillis(1400)); // under the serving models' read's 1.5 s

                // Every probe is bounded, and one soon says the serving generations could not be read.
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    long probe = System.nanoTime();
                    HttpResponse<String> report = get(runtime, "/health/ready");
                    assertThat(since(probe)).as("/health/ready in the outage").isLessThan(READY_BOUND);
                    return JSON.readTree(report.body())
                            .path("warnings")
                            .path("nonserving-embedding-models")
                            .asText()
                            .contains("which generations serve");
                });
                HttpResponse<String> report = get(runtime, "/health/ready");
                assertThat(JSON.readTree(report.body())
                                .path("checks")
                                .path("embedding-models")
                                .asText())
                        .as("judged by the last states read: the serving model is loaded")
                        .isEqualTo("ok");
            } finally {
                proxy.restore();
            }
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> get(runtime, "/health/ready").statusCode() == 200);
        }
    }

    private static Duration since(long nanos) {
        return Duration.ofNanos(System.nanoTime() - nanos);
    }

    /** An embedding-worker whose database is reached through {@code proxy}, with one active collection. */
    private static WorkerRuntime start(StubEmbeddingEndpoint endpoint, TcpProxy proxy) throws Exception {
        String id = UUID.randomUUID().toString();
        Map<String, String> values = new HashMap<>(db.env());
        values.put("DATABASE_URL", proxy.databaseUrl(db.databaseUrl()));
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.put("RAGLINE_HTTP_PORT", "0");
        values.put("RAGLINE_HTTP_HOST", "127.0.0.1"); // search without a token: this machine only
        values.put("RAGLINE_GROUP_PREFIX", "it-" + id);
        values.put("RAGLINE_TOPIC_PREFIX", "it" + id.substring(0, 8) + ".");
        values.put("RAGLINE_EMBEDDING_PROVIDER", "openai");
        values.put("RAGLINE_OPENAI_BASE_URL", endpoint.baseUrl().toString());
        values.put("RAGLINE_OPENAI_API_KEY", "sk-stub");
        values.put("RAGLINE_OPENAI_MAX_ATTEMPTS", "1");
        values.put(EmbeddingSettings.ONNX_THREADS, "1");
        Env env = new Env(values);
        Consumer<WorkerRuntime> wiring = EmbeddingWorker.wiring(env, "RAGLINE_HTTP_PORT", 0);
        WorkerRuntime runtime = WorkerRuntime.start("test-readiness-outage", 0, env);
        try {
            db.execute("delete from collections");
            db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions, status)"
                    + " values ('remote', 'openai', 'stub-model', 8, 'active')");
            wiring.accept(runtime);
            runtime.markStarted();
            return runtime;
        } catch (Exception | Error e) {
            runtime.close();
            throw e;
        }
    }

    private static HttpResponse<String> get(WorkerRuntime runtime, String path) {
        try {
            return HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.adminPort() + path))
                                    .timeout(Duration.ofSeconds(60))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
