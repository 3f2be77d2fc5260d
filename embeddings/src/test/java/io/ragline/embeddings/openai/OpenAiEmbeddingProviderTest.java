package io.ragline.embeddings.openai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.ragline.core.config.Secret;
import io.ragline.embeddings.EmbeddingException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Against a real HTTP server on loopback that plays back scripted answers. */
class OpenAiEmbeddingProviderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "sk-test-0123456789abcdef";
    private static final Instant NOW = Instant.parse("2026-11-01T12:00:00Z");

    private HttpServer server;
    private final ConcurrentLinkedQueue<Reply> script = new ConcurrentLinkedQueue<>();
    private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
    private final List<String> authorizations = new CopyOnWriteArrayList<>();
    private final List<Duration> waits = Collections.synchronizedList(new ArrayList<>());

    /** One scripted answer; {@code status} 200 with null body means "answer correctly". */
    record Reply(int status, Map<String, String> headers, String body, int dimensions) {
        static Reply ok(int dimensions) {
            return new Reply(200, Map.of(), null, dimensions);
        }

        static Reply status(int status, Map<String, String> headers, String body) {
            return new Reply(status, headers, body, 0);
        }
    }

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/embeddings", exchange -> {
            JsonNode request = JSON.readTree(exchange.getRequestBody());
            requests.add(request);
            authorizations.add(exchange.getRequestHeaders().getFirst("Authorization"));
            Reply reply = script.poll();
            if (reply == null) {
                reply = Reply.status(500, Map.of(), "{\"error\":{\"message\":\"script exhausted\"}}");
            }
            String body = reply.body() != null ? reply.body() : answer(request, reply.dimensions());
            reply.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(reply.status(), bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** Vector i is [i+1, 0, 0, ...] for input i; the data array is sent in reverse order. */
    private static String answer(JsonNode request, int dimensions) {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode data = body.putArray("data");
        int n = request.path("input").size();
        for (int i = n - 1; i >= 0; i--) {
            ObjectNode item = data.addObject();
            item.put("object", "embedding");
            item.put("index", i);
            ArrayNode e = item.putArray("embedding");
            for (int d = 0; d < dimensions; d++) {
                e.add(d == 0 ? i + 1.0 : 0.0);
            }
        }
        body.put("model", request.path("model").asText());
        return body.toString();
    }

    private OpenAiEmbeddingProvider provider(int dimensions, int batchSize, double rps, int maxAttempts) {
        OpenAiSettings settings = new OpenAiSettings(
                URI.create("http://127.0.0.1:" + server.getAddress().getPort()),
                Secret.of(KEY),
                "text-embedding-3-small",
                dimensions,
                8191,
                batchSize,
                rps,
                maxAttempts,
                Duration.ofMillis(500),
                Duration.ofSeconds(30),
                Duration.ofSeconds(5));
        return new OpenAiEmbeddingProvider(settings, waits::add, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    @Test
    void rateLimitedThenUnavailableThenSucceedsWaitingWhatTheServerAskedThenBackingOff() {
        script.add(Reply.status(429, Map.of("Retry-After", "2"), "{\"error\":{\"message\":\"Rate limit reached\"}}"));
        script.add(Reply.status(503, Map.of(), "upstream connect error"));
        script.add(Reply.ok(8));
        try (OpenAiEmbeddingProvider p = provider(8, 64, 100, 5)) {
            List<float[]> vectors = p.embed(List.of("first", "second", "third"));

            assertThat(vectors).hasSize(3);
            for (int i = 0; i < 3; i++) {
                assertThat(vectors.get(i)[0]).as("caller's order").isEqualTo(i + 1f);
                assertThat(vectors.get(i)).hasSize(8);
            }
            assertThat(requests).hasSize(3);
            assertThat(waits).hasSize(2);
            assertThat(waits.get(0)).isEqualTo(Duration.ofSeconds(2));
            // second failure without Retry-After: 500 ms * 2, with ±50 % jitter (the one Backoff)
            assertThat(waits.get(1)).isBetween(Duration.ofMillis(500), Duration.ofMillis(1500));
            assertThat(authorizations).containsOnly("Bearer " + KEY);
            JsonNode first = requests.get(0);
            assertThat(first.path("model").asText()).isEqualTo("text-embedding-3-small");
            assertThat(first.path("input").toString()).isEqualTo("[\"first\",\"second\",\"third\"]");
        }
    }

    @Test
    void retryAfterAsAnHttpDateIsHonoured() {
        String date =
                DateTimeFormatter.RFC_1123_DATE_TIME.format(NOW.plusSeconds(7).atZone(ZoneOffset.UTC));
        script.add(Reply.status(429, Map.of("Retry-After", date), "{}"));
        script.add(Reply.ok(4));
        try (OpenAiEmbeddingProvider p = provider(4, 64, 100, 5)) {
            assertThat(p.embedQuery("query")).hasSize(4);
            assertThat(waits).containsExactly(Duration.ofSeconds(7));
        }
    }

    @Test
    void aBadRequestFailsAtOnceWithTheServersMessageAndIsNotRetried() {
        script.add(Reply.status(
                400, Map.of(), "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens\"}}"));
        try (OpenAiEmbeddingProvider p = provider(4, 64, 100, 5)) {
            assertThatThrownBy(() -> p.embed(List.of("far too long")))
                    .isInstanceOfSatisfying(
                            EmbeddingException.class,
                            e -> assertThat(e.retryable()).isFalse())
                    .hasMessageContaining("answered 400: This model's maximum context length is 8192 tokens")
                    .hasMessageContaining("not retried")
                    .hasMessageNotContaining(KEY);
            assertThat(requests).hasSize(1);
            assertThat(waits).isEmpty();
        }
    }

    @Test
    void vectorsOfTheWrongLengthAreRefusedNamingBothLengths() {
        script.add(Reply.ok(1536));
        try (OpenAiEmbeddingProvider p = provider(384, 64, 100, 5)) {
            assertThatThrownBy(() -> p.embed(List.of("text")))
                    .isInstanceOfSatisfying(
                            EmbeddingException.class,
                            e -> assertThat(e.retryable()).isFalse())
                    .hasMessageContaining("returned 1536 dimensions, expected 384");
        }
    }

    @Test
    void persistentServerErrorsGiveUpAfterMaxAttemptsAsRetryable() {
        for (int i = 0; i < 3; i++) {
            script.add(Reply.status(502, Map.of(), "bad gateway"));
        }
        try (OpenAiEmbeddingProvider p = provider(4, 64, 100, 3)) {
            assertThatThrownBy(() -> p.embed(List.of("text")))
                    .isInstanceOfSatisfying(
                            EmbeddingException.class,
                            e -> assertThat(e.retryable()).isTrue())
                    .hasMessageContaining("failed 3 times, last: answered 502: bad gateway");
            assertThat(requests).hasSize(3);
            assertThat(waits).hasSize(2);
        }
    }

    @Test
    void textsAreSentInBatchesAndComeBackInOrder() {
        for (int i = 0; i < 3; i++) {
            script.add(Reply.ok(2));
        }
        try (OpenAiEmbeddingProvider p = provider(2, 2, 100, 5)) {
            List<float[]> v = p.embed(List.of("a", "b", "c", "d", "e"));
            assertThat(requests).extracting(r -> r.path("input").size()).containsExactly(2, 2, 1);
            // each request numbers its own inputs from 1
            assertThat(v).extracting(x -> x[0]).containsExactly(1f, 2f, 1f, 2f, 1f);
        }
    }

    @Test
    void theCircuitBreakerOpensAfterRepeatedFailuresAndStopsCallingTheServer() {
        try (OpenAiEmbeddingProvider p = provider(2, 64, 100, 1)) {
            for (int i = 0; i < 5; i++) {
                script.add(Reply.status(503, Map.of(), "down"));
                assertThatThrownBy(() -> p.embed(List.of("x"))).isInstanceOf(EmbeddingException.class);
            }
            assertThat(p.circuitBreakerState()).isEqualTo(CircuitBreaker.State.OPEN);
            int before = requests.size();
            assertThatThrownBy(() -> p.embed(List.of("x")))
                    .isInstanceOfSatisfying(
                            EmbeddingException.class,
                            e -> assertThat(e.retryable()).isTrue())
                    .hasMessageContaining("circuit breaker")
                    .hasMessageContaining("is open");
            assertThat(requests).hasSize(before);
        }
    }

    @Test
    void callsInterruptedWhileTheyWaitForTheRateLimitGiveBackTheirHalfOpenBreakerPermissions() throws Exception {
        // One request per 10 s: after the first, each call waits for a later period (10 s, 20 s, ...)
        // holding the half-open breaker's permission it took first. Interrupted there (the
        // embedding-worker abandoning a non-serving call), every permission must come back, or the
        // breaker, waiting for the outcomes of all its trial calls, refuses the model for good.
        script.add(Reply.ok(2));
        try (OpenAiEmbeddingProvider p = provider(2, 64, 0.1, 1)) {
            p.embed(List.of("takes this period's permit"));
            p.circuitBreaker().transitionToOpenState();
            p.circuitBreaker().transitionToHalfOpenState();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            List<Thread> calls = new ArrayList<>();
            for (int i = 0; i < OpenAiEmbeddingProvider.HALF_OPEN_CALLS; i++) {
                Thread t = new Thread(() -> {
                    try {
                        p.embed(List.of("trial"));
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                });
                t.start();
                calls.add(t);
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> p.waitingForRateLimit() == OpenAiEmbeddingProvider.HALF_OPEN_CALLS);

            calls.forEach(Thread::interrupt);
            for (Thread t : calls) {
                t.join(10_000);
            }

            assertThat(requests).as("no trial call was sent").hasSize(1);
            assertThat(p.circuitBreakerState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
            assertThat(p.circuitBreaker().tryAcquirePermission())
                    .as("the breaker still admits a trial call")
                    .isTrue();
            assertThat(failures)
                    .hasSize(OpenAiEmbeddingProvider.HALF_OPEN_CALLS)
                    .allSatisfy(e -> assertThat(e)
                            .isInstanceOfSatisfying(
                                    EmbeddingException.class,
                                    f -> assertThat(f.retryable()).isTrue())
                            .hasMessageContaining("interrupted while waiting for the rate limit"));
        }
    }

    @Test
    void theClientSideRateLimitPacesRequests() {
        for (int i = 0; i < 3; i++) {
            script.add(Reply.ok(2));
        }
        long start = System.nanoTime();
        try (OpenAiEmbeddingProvider p = provider(2, 1, 2, 5)) {
            p.embed(List.of("a", "b", "c")); // 3 requests at 2 per second: the third waits for the next second
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(800));
        assertThat(requests).hasSize(3);
    }

    @Test
    void theApiKeyNeverAppearsInTheProvidersDescription() {
        try (OpenAiEmbeddingProvider p = provider(2, 1, 2, 5)) {
            assertThat(p.toString()).doesNotContain(KEY).contains("<masked>");
        }
    }

    @Test
    void anEmptyListMakesNoRequest() {
        try (OpenAiEmbeddingProvider p = provider(2, 1, 2, 5)) {
            assertThat(p.embed(List.of())).isEmpty();
            assertThat(requests).isEmpty();
        }
    }

    @Test
    void theEndpointIsTheBaseUrlPlusV1Embeddings() {
        assertThat(OpenAiSettings.of(URI.create("http://localhost:11434"), Secret.of(""), "m", 3)
                        .endpoint())
                .hasToString("http://localhost:11434/v1/embeddings");
        assertThat(OpenAiSettings.of(URI.create("https://api.openai.com/v1/"), Secret.of(""), "m", 3)
                        .endpoint())
                .hasToString("https://api.openai.com/v1/embeddings");
    }
}
