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

/**
 * A real OpenAI-compatible {@code POST /v1/embeddings} server on loopback: the external system the
 * openai provider calls. It answers vectors derived from each input's text, or the status it is
 * told to: for every request ({@link #answer}), or only for requests with an input containing a
 * marker ({@link #refuseInputsContaining}), as a server refuses an input it cannot embed.
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

    public StubEmbeddingEndpoint(int dimensions) throws IOException {
        this.dimensions = dimensions;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/embeddings", this::handle);
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
        server.stop(0);
    }
}
