package io.ragline.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.Env;
import io.ragline.testkit.PostgresSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class WorkerRuntimeIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static WorkerRuntime runtime;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        runtime = WorkerRuntime.start("runtime-it", 0, new Env(env));
        // Until the process's consumers and servers run, readiness holds back.
        assertThat(runtime.adminPort()).isPositive();
        notReadyBeforeStart = get("/health/ready");
        runtime.markStarted();
    }

    static HttpResponse<String> notReadyBeforeStart;

    @Test
    void readinessWaitsUntilTheProcessHasStartedItsConsumersAndServers() {
        assertThat(notReadyBeforeStart.statusCode()).isEqualTo(503);
        assertThat(notReadyBeforeStart.body()).contains("\"started\":\"starting its consumers and servers\"");
    }

    @AfterAll
    static void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void startupMigratesTheSchema() throws Exception {
        assertThat(db.queryValue("select count(*) from collections where name = 'default'"))
                .isEqualTo(1L);
    }

    @Test
    void livenessAndReadinessAnswerWithTheStateOfEachDependency() throws Exception {
        HttpResponse<String> live = get("/health/live");
        HttpResponse<String> ready = get("/health/ready");

        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body())
                .contains("\"status\":\"UP\"")
                .contains("\"postgres\":\"ok\"")
                .contains("\"kafka\":\"ok\"")
                .contains("\"migrations\":\"ok\"");
    }

    @Test
    void metricsArePrometheusTextWithJvmAndPoolMetrics() throws Exception {
        HttpResponse<String> metrics = get("/metrics");

        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type"))
                .hasValueSatisfying(ct -> assertThat(ct).startsWith("text/plain"));
        assertThat(metrics.body())
                .contains("jvm_memory_used_bytes{")
                .contains("process=\"runtime-it\"")
                .contains("hikaricp_connections");
    }

    @Test
    void adminEndpointsRefuseOtherMethodsAndUnknownPaths() throws Exception {
        HttpResponse<String> post = http.send(
                HttpRequest.newBuilder(uri("/health/ready"))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
        assertThat(get("/nope").statusCode()).isEqualTo(404);
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + runtime.adminPort() + path);
    }
}
