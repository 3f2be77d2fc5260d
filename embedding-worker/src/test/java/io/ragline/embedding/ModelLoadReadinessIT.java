package io.ragline.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.lifecycle.Lifecycle;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An embedding-worker loads the models of the collections that exist when it starts, and is not
 * ready until their serving models are loaded and their dimensions checked: the OpenAI-compatible
 * endpoint (a real HTTP server on loopback) holds its answer to the dimension probe until the test
 * lets it. A model only a building or kept generation uses is reported, never holding readiness.
 */
class ModelLoadReadinessIT {
    static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Duration WAIT = Duration.ofSeconds(30);

    /** An active collection whose model the endpoint serves. */
    static final String REMOTE = "('remote', 'openai', 'stub-model', 8, 'active')";

    @Test
    void anEmbeddingWorkerIsNotReadyBeforeItsModelIsLoaded() throws Exception {
        CountDownLatch probed = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8).beforeAnswer(() -> {
                    probed.countDown();
                    hold(answer);
                });
                WorkerRuntime runtime = start(endpoint, REMOTE)) {
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
    void theConsumerJoinsItsGroupOnlyOnceTheModelIsLoadedSoPartitionsItGetsAreEmbeddedAtOnce() throws Exception {
        CountDownLatch probed = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        String id = UUID.randomUUID().toString();
        String group = "it-" + id + "-" + EmbeddingWorker.EMBEDDING_REQUESTS;
        String topic = "it" + id.substring(0, 8) + "." + EmbeddingWorker.EMBEDDING_REQUESTS;
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8).beforeAnswer(() -> {
                    probed.countDown();
                    hold(answer);
                });
                WorkerRuntime runtime = start(id, endpoint, REMOTE);
                Admin admin = Admin.create(Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()))) {
            assertThat(probed.await(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .as("the model's dimension probe was sent")
                    .isTrue();
            assertThat(members(admin, group))
                    .as("members while the model loads")
                    .isZero();

            answer.countDown();

            await().atMost(WAIT).until(() -> members(admin, group) == 1);
        }
    }

    /** Members of {@code group} now; 0 when it does not exist (nobody joined yet). */
    private static int members(Admin admin, String group) throws Exception {
        try {
            return admin.describeConsumerGroups(List.of(group))
                    .all()
                    .get(10, TimeUnit.SECONDS)
                    .get(group)
                    .members()
                    .size();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return 0;
            }
            throw e;
        }
    }

    @Test
    void aModelOfOtherDimensionsThanItsCollectionsKeepsTheWorkerUnreadyAndIsNamed() throws Exception {
        // The CLI refuses this collection; the table does not (a row written by hand, or a model
        // catalog changed between releases), and the registry's own probe must catch it.
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8);
                WorkerRuntime runtime = start(endpoint, "('wide', 'onnx', 'all-MiniLM-L6-v2', 768, 'active')")) {
            await().atMost(WAIT.multipliedBy(3)) // the ONNX model loads in 4-15 s, longer on a busy machine
                    .until(() -> ready(runtime).body().contains("gives"));
            HttpResponse<String> report = ready(runtime);
            assertThat(report.statusCode()).isEqualTo(503);
            assertThat(report.body())
                    .contains("model onnx/all-MiniLM-L6-v2/768 gives 384 dimensions, collection 'wide' has 768");
        }
    }

    @Test
    void aMigrationsModelThatCannotLoadLeavesTheWorkerReadyAndIsNamedInItsHealthDetailAndAMetric() throws Exception {
        // A building generation (ragline collections migrate) of the active collection: its model
        // loads at start-up like the serving one's, but a problem of it must not take the serving
        // path out of the load balancer; it is reported instead (its vectors are owed meanwhile).
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8);
                WorkerRuntime runtime = startWith(
                        UUID.randomUUID().toString(),
                        endpoint,
                        "insert into collection_generations (collection_id, generation, embedding_provider,"
                                + " embedding_model, dimensions, state) select id, 2, 'onnx', 'no-such-model', 384,"
                                + " 'building' from collections where name = 'remote'",
                        REMOTE)) {
            await().atMost(WAIT).until(() -> ready(runtime).body().contains("failed to load"));
            HttpResponse<String> report = ready(runtime);
            assertThat(report.statusCode()).as(report.body()).isEqualTo(200);
            assertThat(JSON.readTree(report.body())
                            .path("warnings")
                            .path("nonserving-embedding-models")
                            .asText())
                    .contains("collection 'remote' generation 2 (building): model onnx/no-such-model/384 failed to"
                            + " load: collection 'remote' uses model 'no-such-model'");
            assertThat(JSON.readTree(report.body())
                            .path("checks")
                            .path("embedding-models")
                            .asText())
                    .isEqualTo("ok");
            assertThat(metrics(runtime))
                    .contains("ragline_embedding_nonserving_models_failed{process=\"test-model-load\"} 1.0");
        }
    }

    @Test
    void aMigrationsModelThatCannotLoadMakesTheWorkerUnreadyOnceItsGenerationServes() throws Exception {
        // Other replicas wrote the building generation's vectors and the switch made it serving:
        // this worker cannot run that model, so every document it embeds now would fail. It must
        // leave the load balancer, naming the model, as it would had the model served at start-up.
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8);
                WorkerRuntime runtime = startWith(
                        UUID.randomUUID().toString(),
                        endpoint,
                        "insert into collection_generations (collection_id, generation, embedding_provider,"
                                + " embedding_model, dimensions, state) select id, 2, 'onnx', 'no-such-model', 384,"
                                + " 'building' from collections where name = 'remote'",
                        REMOTE)) {
            await().atMost(WAIT).until(() -> ready(runtime).body().contains("failed to load"));
            assertThat(ready(runtime).statusCode())
                    .as("ready while the model only builds")
                    .isEqualTo(200);

            db.execute("select collection_switch_generation(id, 2) from collections where name = 'remote'");

            await().atMost(WAIT).until(() -> ready(runtime).statusCode() == 503);
            HttpResponse<String> report = ready(runtime);
            assertThat(JSON.readTree(report.body())
                            .path("checks")
                            .path("embedding-models")
                            .asText())
                    .contains("model onnx/no-such-model/384 failed to load: collection 'remote' uses model"
                            + " 'no-such-model'");
            assertThat(JSON.readTree(report.body())
                            .path("warnings")
                            .path("nonserving-embedding-models")
                            .isMissingNode())
                    .as(report.body())
                    .isTrue();
        }
    }

    @Test
    void aServingModelThatCannotLoadStopsHoldingReadinessOnceASwitchLeavesItsGenerationKept() throws Exception {
        // The serving generation's model cannot run here (503, named); other replicas built
        // generation 2 with a model that does, and the switch keeps generation 1 for a rollback. The
        // failed model takes nothing served away now: a warning, not a worker out of the balancer.
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8);
                WorkerRuntime runtime = startWith(
                        UUID.randomUUID().toString(),
                        endpoint,
                        "update collection_generations set embedding_provider = 'onnx', embedding_model ="
                                + " 'no-such-model', dimensions = 384; insert into collection_generations"
                                + " (collection_id, generation, embedding_provider, embedding_model, dimensions,"
                                + " state) select id, 2, 'openai', 'stub-model', 8, 'building' from collections"
                                + " where name = 'remote'",
                        REMOTE)) {
            await().atMost(WAIT).until(() -> ready(runtime).body().contains("failed to load"));
            assertThat(ready(runtime).statusCode())
                    .as("unready while the failed model serves")
                    .isEqualTo(503);

            db.execute("select collection_switch_generation(id, 2) from collections where name = 'remote'");

            await().atMost(WAIT).until(() -> ready(runtime).statusCode() == 200);
            HttpResponse<String> report = ready(runtime);
            assertThat(JSON.readTree(report.body())
                            .path("checks")
                            .path("embedding-models")
                            .asText())
                    .isEqualTo("ok");
            assertThat(JSON.readTree(report.body())
                            .path("warnings")
                            .path("nonserving-embedding-models")
                            .asText())
                    .contains("model onnx/no-such-model/384 failed to load")
                    .contains("no generation of this model serves now");
            assertThat(metrics(runtime))
                    .contains("ragline_embedding_nonserving_models_failed{process=\"test-model-load\"} 1.0");
        }
    }

    @Test
    void aKeptGenerationsModelThatCannotLoadDoesNotHoldReadinessAndIsReported() throws Exception {
        // A generation kept after a switch (for a rollback): a model this worker cannot run must not
        // stop it embedding with the serving one.
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8);
                WorkerRuntime runtime = startWith(
                        UUID.randomUUID().toString(),
                        endpoint,
                        "update collection_generations set state = 'kept', embedding_provider = 'onnx',"
                                + " embedding_model = 'no-such-model', dimensions = 384; insert into"
                                + " collection_generations (collection_id, generation, embedding_provider,"
                                + " embedding_model, dimensions, state) select id, 2, 'openai', 'stub-model', 8,"
                                + " 'serving' from collections where name = 'remote'",
                        REMOTE)) {
            await().atMost(WAIT).until(() -> ready(runtime).body().contains("failed to load"));
            HttpResponse<String> report = ready(runtime);
            assertThat(report.statusCode()).as(report.body()).isEqualTo(200);
            assertThat(JSON.readTree(report.body())
                            .path("warnings")
                            .path("nonserving-embedding-models")
                            .asText())
                    .contains("collection 'remote' generation 1 (kept): model onnx/no-such-model/384 failed to load");
        }
    }

    @Test
    void aPausedCollectionsModelThatCannotLoadDoesNotHoldReadiness() throws Exception {
        // 'narrow' declares 4 dimensions, the endpoint answers 8: its model would fail to load.
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8);
                WorkerRuntime runtime = start(endpoint, "('narrow', 'openai', 'stub-model', 4, 'paused')", REMOTE)) {
            await().atMost(WAIT).until(() -> ready(runtime).statusCode() == 200);
            assertThat(ready(runtime).body()).doesNotContain("stub-model");
            assertThat(endpoint.inputsPerRequest())
                    .as("only the active collection's model was probed")
                    .containsExactly(1);
        }
    }

    @Test
    void aModelRefusedForGoodIsNamedAndTheLoaderGoesOnToTheNextModel() throws Exception {
        // Loaded in name order: an empty model name makes the openai settings throw (not an
        // EmbeddingException); an unknown onnx model is a non-retryable EmbeddingException.
        try (StubEmbeddingEndpoint endpoint = new StubEmbeddingEndpoint(8);
                WorkerRuntime runtime = start(
                        endpoint,
                        "('blank', 'openai', '', 8, 'active')",
                        "('mystery', 'onnx', 'no-such-model', 384, 'active')",
                        REMOTE)) {
            await().atMost(WAIT).until(() -> {
                String body = ready(runtime).body();
                return !body.contains("listing the collections") && !body.contains("is loading");
            });
            HttpResponse<String> report = ready(runtime);
            assertThat(report.statusCode()).isEqualTo(503);
            assertThat(report.body())
                    .contains("model openai//8 failed to load: invalid configuration")
                    .contains(EmbeddingSettings.OPENAI_MODEL + " must not be empty")
                    .contains("model onnx/no-such-model/384 failed to load: collection 'mystery' uses model")
                    .doesNotContain("stub-model")
                    .doesNotContain(ProviderRegistry.LOADER)
                    .doesNotContain("sk-stub");
            assertThat(endpoint.inputsPerRequest())
                    .as("the model after the refused ones was loaded")
                    .containsExactly(1);
            assertThat(runtime.state())
                    .as("the process goes on: the loader's fatal path was not taken")
                    .isEqualTo(Lifecycle.State.RUNNING);
            assertThat(runtime.exitCode()).isZero();
        }
    }

    /**
     * An embedding-worker whose collections are {@code collections} (each {@code (name, provider,
     * model, dimensions, status)}); openai collections use the endpoint.
     */
    private static WorkerRuntime start(StubEmbeddingEndpoint endpoint, String... collections) {
        return start(UUID.randomUUID().toString(), endpoint, collections);
    }

    /** As {@link #start(StubEmbeddingEndpoint, String...)}, its group and topic prefixes made of {@code id}. */
    private static WorkerRuntime start(String id, StubEmbeddingEndpoint endpoint, String... collections) {
        return startWith(id, endpoint, null, collections);
    }

    /** As {@link #start(String, StubEmbeddingEndpoint, String...)}, running {@code sql} once they exist. */
    private static WorkerRuntime startWith(
            String id, StubEmbeddingEndpoint endpoint, String sql, String... collections) {
        Map<String, String> values = new HashMap<>(db.env());
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
        WorkerRuntime runtime = WorkerRuntime.start("test-model-load", 0, env);
        try {
            db.execute("delete from collections");
            db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions, status)"
                    + " values " + String.join(", ", collections));
            if (sql != null) {
                db.execute(sql);
            }
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

    private static String metrics(WorkerRuntime runtime) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.adminPort() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static HttpResponse<String> ready(WorkerRuntime runtime) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.adminPort() + "/health/ready"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }
}
