package io.ragline.embedding;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.ragline.core.config.Secret;
import io.ragline.embeddings.openai.OpenAiEmbeddingProvider;
import io.ragline.embeddings.openai.OpenAiSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real OpenAI-compatible {@code POST /v1/embeddings} server on loopback: the external system the
 * openai provider calls. It answers vectors derived from each input's text, or the status it is
 * told to: for every request ({@link #answer}), or only for requests with an input containing a
 * marker ({@link #refuseInputsContaining}), as a server refuses an input it cannot embed; or it
 * holds its answer for one model ({@link #holdModel}), as a server accepts the connection of a model
 * that does not answer (one still loading, an overloaded GPU). Requests are served side by side, as
 * a real server serves them: a held one does not hold the others.
 */
public final class StubEmbeddingEndpoint implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final int dimensions;
    private final List<Integer> inputsPerRequest = new CopyOnWriteArrayList<>();
    private volatile int status = 200;
    private volatile String marker;
    private volatile int markerStatus;
    private volatile Runnable beforeAnswer = () -> {};
    private volatile String heldModel;
    private volatile String slowModel;
    private volatile Duration slowBy = Duration.ZERO;
    private volatile CountDownLatch release = new CountDownLatch(0);
    private final AtomicInteger held = new AtomicInteger();
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "stub-embedding-endpoint");
        t.setDaemon(true);
        return t;
    });

    public StubEmbeddingEndpoint(int dimensions) throws IOException {
        this.dimensions = dimensions;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/embeddings", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** Every request from now on is answered with {@code status} (200: vectors). */
    public StubEmbeddingEndpoint answer(int status) {
        this.status = status;
        return this;
    }

    /** A request with an input containing {@code marker} is answered {@code status}, the others normally. */
    public StubEmbeddingEndpoint refuseInputsContaining(String marker, int status) {
        this.marker = marker;
        this.markerStatus = status;
        return this;
    }

    /** Runs before each answer (for instance to change the database while a query is embedded). */
    public StubEmbeddingEndpoint beforeAnswer(Runnable action) {
        this.beforeAnswer = action;
        return this;
    }

    /**
     * Requests for {@code model} are held, unanswered, until {@link #releaseModel} (or a minute at
     * most); the connection is accepted and the request read, as a server that does not answer.
     */
    public StubEmbeddingEndpoint holdModel(String model) {
        this.release = new CountDownLatch(1);
        this.heldModel = model;
        return this;
    }

    /** Every request for {@code model} is answered {@code by} late, as a slow but working server. */
    public StubEmbeddingEndpoint slowModel(String model, Duration by) {
        this.slowBy = by;
        this.slowModel = model;
        return this;
    }

    /** Answers the held requests and every later one for the held model. */
    public StubEmbeddingEndpoint releaseModel() {
        this.heldModel = null;
        this.release.countDown();
        return this;
    }

    /** How many requests were held so far. */
    public int held() {
        return held.get();
    }

    /** How many inputs each request so far carried. */
    public List<Integer> inputsPerRequest() {
        return List.copyOf(inputsPerRequest);
    }

    public URI baseUrl() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** A provider for this endpoint: one attempt per request, so a 5xx fails at once as retryable. */
    public OpenAiEmbeddingProvider provider(String model) {
        return new OpenAiEmbeddingProvider(new OpenAiSettings(
                baseUrl(),
                Secret.of("sk-stub"),
                model,
                dimensions,
                8191,
                64,
                1000,
                1,
                Duration.ofMillis(10),
                Duration.ofMillis(100),
                Duration.ofSeconds(10)));
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            JsonNode request = JSON.readTree(exchange.getRequestBody());
            JsonNode input = request.path("input");
            inputsPerRequest.add(input.size());
            beforeAnswer.run();
            if (request.path("model").asText().equals(slowModel)) {
                try {
                    Thread.sleep(slowBy.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (request.path("model").asText().equals(heldModel)) {
                held.incrementAndGet();
                try {
                    release.await(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            String marked = marker;
            if (marked != null) {
                for (JsonNode text : input) {
                    if (text.asText().contains(marked)) {
                        send(
                                exchange,
                                markerStatus,
                                error("input " + text.asText().length() + " refused"));
                        return;
                    }
                }
            }
            int now = status;
            send(exchange, now, now == 200 ? vectors(input) : error("stub answers " + now));
        }
    }

    private String vectors(JsonNode input) {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode data = body.putArray("data");
        for (int i = 0; i < input.size(); i++) {
            ObjectNode item = data.addObject();
            item.put("object", "embedding");
            item.put("index", i);
            ArrayNode e = item.putArray("embedding");
            int seed = input.get(i).asText().hashCode();
            for (int d = 0; d < dimensions; d++) {
                e.add(((seed >>> (d % 32)) & 1) == 1 ? 1.0 : -1.0);
            }
        }
        return body.toString();
    }

    private static String error(String message) {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("error").put("message", message);
        return body.toString();
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
