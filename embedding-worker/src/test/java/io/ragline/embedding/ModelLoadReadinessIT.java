package io.ragline.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.testkit.PostgresSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An embedding-worker loads the models of the collections that exist when it starts, and is not
 * ready until they are loaded and their dimensions checked: the OpenAI-compatible endpoint (a real
 * HTTP server on loopback) holds its answer to the dimension probe until the test lets it.
 */
class ModelLoadReadinessIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema();

    static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void anEmbeddingWorkerIsNotReadyBeforeItsModelIsLoaded() throws Exception {
        CountDownLatch probed = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8).beforeAnswer(() -> {
                    probed.countDown();
                    hold(answer);
                });
                WorkerRuntime runtime = start(endpoint, "remote", 8)) {
            assertThat(probed.await(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .as("the model's dimension probe was sent")
                    .isTrue();
            HttpResponse<String> loading = ready(runtime);
            assertThat(loading.statusCode()).isEqualTo(503);
            assertThat(loading.body()).contains("embedding-models").contains("openai/stub-model/8 is loading");

            answer.countDown();

            await().atMost(WAIT).until(() -> ready(runtime).statusCode() == 200);
            assertThat(ready(runtime).body()).doesNotContain("stub-model");
        }
    }

    @Test
    void aModelOfOtherDimensionsThanItsCollectionsKeepsTheWorkerUnreadyAndIsNamed() throws Exception {
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(4);
                WorkerRuntime runtime = start(endpoint, "narrow", 8)) {
            await().atMost(WAIT).until(() -> ready(runtime).body().contains("failed to load"));
            HttpResponse<String> report = ready(runtime);
            assertThat(report.statusCode()).isEqualTo(503);
            assertThat(report.body())
                    .contains("model openai/stub-model/8 failed to load")
                    .contains("returned 4 dimensions, expected 8")
                    .doesNotContain("sk-stub");
        }
    }

    /** An embedding-worker whose only collection, {@code collection}, uses the endpoint's model. */
    private static WorkerRuntime start(StubEmbeddingEndpoint endpoint, String collection, int dimensions) {
        Map<String, String> values = new HashMap<>(db.env());
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.put("RAGLINE_HTTP_PORT", "0");
        values.put("RAGLINE_GROUP_PREFIX", "it-" + UUID.randomUUID());
        values.put("RAGLINE_TOPIC_PREFIX", "it" + UUID.randomUUID().toString().substring(0, 8) + ".");
        values.put("RAGLINE_EMBEDDING_PROVIDER", "openai");
        values.put("RAGLINE_OPENAI_BASE_URL", endpoint.baseUrl().toString());
        values.put("RAGLINE_OPENAI_API_KEY", "sk-stub");
        values.put("RAGLINE_OPENAI_MAX_ATTEMPTS", "1");
        Env env = new Env(values);
        Consumer<WorkerRuntime> wiring = EmbeddingWorker.wiring(env, "RAGLINE_HTTP_PORT", 0);
        WorkerRuntime runtime = WorkerRuntime.start("test-model-load", 0, env);
        try {
            db.execute("delete from collections");
            db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions) values ('"
                    + collection + "', 'openai', 'stub-model', " + dimensions + ")");
            wiring.accept(runtime);
            runtime.markStarted();
            return runtime;
        } catch (Exception | Error e) {
            runtime.close();
            throw new IllegalStateException(e);
        }
    }

    private static void hold(CountDownLatch latch) {
        try {
            latch.await(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static HttpResponse<String> ready(WorkerRuntime runtime) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.adminPort() + "/health/ready"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }
}
