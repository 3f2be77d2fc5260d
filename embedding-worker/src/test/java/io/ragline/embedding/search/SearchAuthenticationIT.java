package io.ragline.embedding.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.embedding.EmbeddingWorker;
import io.ragline.embedding.StubEmbeddingEndpoint;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TestCertificates;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code POST /search} of the embedding-worker as a real process, asked by {@code curl} as a user
 * would: behind bearer tokens read from a file, over HTTPS with a certificate made at test time,
 * refused at start-up where it would answer anyone, and never writing a token to its output.
 */
class SearchAuthenticationIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final String TOKEN = "good-token-" + UUID.randomUUID();
    static final String OTHER_TOKEN = "second-token-" + UUID.randomUUID();
    static final String WRONG_TOKEN = "wrong-token-" + UUID.randomUUID();
    static final String QUERY = "{\"query\":\"tea\",\"collection\":\"docs\"}";

    @TempDir
    static Path dir;

    static StubEmbeddingEndpoint endpoint;
    static TestCertificates ca;
    static TestCertificates.Issued certificate;

    @BeforeAll
    static void start() throws Exception {
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions)"
                + " values ('docs', 'openai', 'stub-model', 8)");
        endpoint = new StubEmbeddingEndpoint(8);
        ca = TestCertificates.authority(dir.resolve("ca"), "ragline-test-ca");
        certificate = ca.issue("search", "dns:localhost", "ip:127.0.0.1");
    }

    @AfterAll
    static void stop() {
        if (endpoint != null) {
            endpoint.close();
        }
    }

    @Test
    void overHttpsSearchAnswersOnlyATokenFromTheTokensFileAndNeverLogsOne() throws Exception {
        Path tokens = dir.resolve("api-tokens");
        Files.writeString(tokens, OTHER_TOKEN + ",\n" + TOKEN + "\n");
        Map<String, String> env = env();
        env.put("RAGLINE_API_TOKENS_FILE", tokens.toString()); // on 0.0.0.0, the default
        env.put("RAGLINE_HTTP_TLS_CERT", certificate.certPem().toString());
        env.put("RAGLINE_HTTP_TLS_KEY", certificate.keyPem().toString());
        Worker worker = Worker.start(env);
        String https = "https://localhost:" + worker.httpPort + "/search";
        try {
            Curl anonymous = Curl.run("--cacert", ca.caPem().toString(), https, "-d", QUERY);
            Curl wrong = Curl.run(
                    "--cacert",
                    ca.caPem().toString(),
                    https,
                    "-H",
                    "Authorization: Bearer " + WRONG_TOKEN,
                    "-d",
                    QUERY);
            Curl good = Curl.run(
                    "--cacert", ca.caPem().toString(), https, "-H", "Authorization: Bearer " + TOKEN, "-d", QUERY);
            Curl untrusted = Curl.run(https, "-H", "Authorization: Bearer " + TOKEN, "-d", QUERY);
            Curl plain = Curl.run(
                    "http://localhost:" + worker.httpPort + "/search",
                    "-H",
                    "Authorization: Bearer " + TOKEN,
                    "-d",
                    QUERY);

            assertThat(anonymous.status()).as(anonymous.output).isEqualTo(401);
            assertThat(anonymous.header("WWW-Authenticate")).isEqualTo("Bearer realm=\"ragline\"");
            assertThat(anonymous.header("Content-Type")).isEqualTo("application/problem+json");
            assertThat(anonymous.body()).contains("\"status\":401").contains("\"error\":\"authentication required");
            assertThat(wrong.status()).as(wrong.output).isEqualTo(401);
            assertThat(wrong.header("WWW-Authenticate")).isEqualTo("Bearer realm=\"ragline\", error=\"invalid_token\"");
            assertThat(wrong.body()).contains("\"error\":\"the bearer token is not valid\"");
            assertThat(good.status()).as(good.output).isEqualTo(200);
            assertThat(good.body()).startsWith("{\"results\":[");
            assertThat(untrusted.exitCode)
                    .as("curl refuses a certificate it cannot verify")
                    .isEqualTo(60);
            assertThat(plain.exitCode)
                    .as("plain HTTP to the HTTPS port fails: " + plain.output)
                    .isNotZero();
            assertThat(plain.output).doesNotContain("HTTP/1.1 200");
        } finally {
            worker.process.terminate();
        }
        assertThat(worker.process.waitFor(30)).isZero();
        String output = worker.process.stdout() + worker.process.stderr();
        assertThat(output)
                .contains("POST /search on https://0.0.0.0:" + worker.httpPort + "/search (bearer tokens: 2 tokens)")
                .doesNotContain(TOKEN)
                .doesNotContain(OTHER_TOKEN)
                .doesNotContain(WRONG_TOKEN);
    }

    @Test
    void anAnonymousSearchOnEveryInterfaceIsRefusedAtStartUpNamingTheWaysOut() throws Exception {
        JavaProcess worker = JavaProcess.start(List.of(), EmbeddingWorker.class.getName(), env());

        assertThat(worker.waitFor(60)).as(worker.stderr()).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("invalid configuration (1 problem)")
                .contains("POST /search would answer anyone: it listens on RAGLINE_HTTP_HOST='0.0.0.0' with no token.")
                .contains("RAGLINE_API_TOKENS (or RAGLINE_API_TOKENS_FILE)")
                .contains("RAGLINE_HTTP_HOST=127.0.0.1")
                .contains("RAGLINE_HTTP_ALLOW_ANONYMOUS=true");
    }

    @ParameterizedTest
    @ValueSource(strings = {"RAGLINE_HTTP_HOST=127.0.0.1", "RAGLINE_HTTP_ALLOW_ANONYMOUS=true"})
    void anAnonymousSearchStartsOnLoopbackOrWithTheOptIn(String setting) throws Exception {
        Map<String, String> env = env();
        env.put(setting.substring(0, setting.indexOf('=')), setting.substring(setting.indexOf('=') + 1));
        Worker worker = Worker.start(env);
        try {
            Curl search = Curl.run("http://127.0.0.1:" + worker.httpPort + "/search", "-d", QUERY);

            assertThat(search.status()).as(search.output).isEqualTo(200);
        } finally {
            worker.process.terminate();
        }
        assertThat(worker.process.waitFor(30)).isZero();
    }

    @Test
    void aKeyFileThatIsNoPemKeyStopsStartUpNamingTheVariableButNotItsContents() throws Exception {
        String contents = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
        Path key = dir.resolve("not-a-key.pem");
        Files.writeString(key, contents + "\n");
        Map<String, String> env = env();
        env.put("RAGLINE_HTTP_HOST", "127.0.0.1");
        env.put("RAGLINE_HTTP_TLS_CERT", certificate.certPem().toString());
        env.put("RAGLINE_HTTP_TLS_KEY", key.toString());

        JavaProcess worker = JavaProcess.start(List.of(), EmbeddingWorker.class.getName(), env);

        assertThat(worker.waitFor(60)).as(worker.stderr()).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("RAGLINE_HTTP_TLS_KEY='" + key + "' holds no PEM private key")
                .doesNotContain(contents);
        assertThat(worker.stdout()).doesNotContain(contents);
    }

    private static Map<String, String> env() throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", String.valueOf(freePort()));
        env.put("RAGLINE_HTTP_PORT", String.valueOf(freePort()));
        env.put("RAGLINE_GROUP_PREFIX", "it-" + UUID.randomUUID());
        env.put("RAGLINE_TOPIC_PREFIX", "it" + UUID.randomUUID().toString().substring(0, 8) + ".");
        env.put("RAGLINE_EMBEDDING_PROVIDER", "openai");
        env.put("RAGLINE_OPENAI_BASE_URL", endpoint.baseUrl().toString());
        env.put("RAGLINE_OPENAI_MODEL", "stub-model");
        env.put("RAGLINE_EMBEDDING_DIMENSIONS", "8");
        env.put("RAGLINE_OPENAI_MAX_ATTEMPTS", "1");
        return env;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The embedding-worker process, ready. */
    private record Worker(JavaProcess process, int httpPort) {
        static Worker start(Map<String, String> env) throws Exception {
            JavaProcess process = JavaProcess.start(List.of(), EmbeddingWorker.class.getName(), env);
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest ready = HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + env.get("RAGLINE_ADMIN_PORT") + "/health/ready"))
                    .build();
            try {
                await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> {
                    if (!process.process().isAlive()) {
                        throw new AssertionError("the worker exited: " + process.stderr() + process.stdout());
                    }
                    return http.send(ready, HttpResponse.BodyHandlers.ofString())
                                    .statusCode()
                            == 200;
                });
            } catch (RuntimeException | AssertionError e) {
                process.kill();
                throw new AssertionError(
                        "not ready; stderr:\n" + process.stderr() + "\nstdout:\n" + process.stdout(), e);
            }
            return new Worker(process, Integer.parseInt(env.get("RAGLINE_HTTP_PORT")));
        }
    }

    /** {@code curl -s -i}: its exit code, and what it printed (status line, headers, body). */
    private record Curl(int exitCode, String output) {
        static Curl run(String... args) throws Exception {
            List<String> command = new ArrayList<>(List.of("curl", "-s", "-i", "--max-time", "30"));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(40, TimeUnit.SECONDS)).isTrue();
            return new Curl(p.exitValue(), out);
        }

        int status() {
            String line = output.lines().findFirst().orElse("");
            return line.startsWith("HTTP/") ? Integer.parseInt(line.split(" ")[1]) : -1;
        }

        /** The value of the first header {@code name}, case-insensitive; null when absent. */
        String header(String name) {
            return output.lines()
                    .takeWhile(l -> !l.isEmpty())
                    .filter(l -> l.regionMatches(true, 0, name + ":", 0, name.length() + 1))
                    .map(l -> l.substring(name.length() + 1).strip())
                    .findFirst()
                    .orElse(null);
        }

        String body() {
            int blank = output.indexOf("\r\n\r\n");
            return blank < 0 ? "" : output.substring(blank + 4);
        }
    }
}
