package io.ragline.embedding.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.embeddings.EmbeddingProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /search} with {@code {"query","collection","k","filter"}}: embeds the query with the
 * collection's model (and its query prefix) and answers the top {@code k} chunks from {@code
 * search_documents}: {@code {"results":[{"document_id","title","content","score","chunk_id",
 * "metadata"}]}}. 400 for a bad request, 404 for an unknown collection, 405 for another method,
 * 503 when the database is unavailable.
 */
public final class SearchServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SearchServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 64 * 1024;

    private final HttpServer server;
    private final ExecutorService executor;
    private final Searcher searcher;
    private final Timer latency;

    public SearchServer(
            int port,
            DataSource dataSource,
            CollectionCatalog catalog,
            Function<Collection, EmbeddingProvider> providers,
            MeterRegistry registry)
            throws IOException {
        this.searcher = new Searcher(dataSource, catalog, providers);
        this.latency = Timer.builder("ragline.search.latency")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
        this.server = HttpServer.create(new InetSocketAddress(port), 128);
        this.executor =
                Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
                    Thread t = new Thread(r, "search-http");
                    t.setDaemon(true);
                    return t;
                });
        server.setExecutor(executor);
        server.createContext("/search", this::handle);
        server.start();
        log.info("search on http://0.0.0.0:{}/search", server.getAddress().getPort());
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (!"POST".equals(ex.getRequestMethod())) {
                ex.getResponseHeaders().set("Allow", "POST");
                error(ex, 405, "use POST");
                return;
            }
            Timer.Sample sample = Timer.start();
            JsonNode body;
            try (InputStream in = ex.getRequestBody()) {
                byte[] bytes = in.readNBytes(MAX_BODY + 1);
                if (bytes.length > MAX_BODY) {
                    error(ex, 413, "the request is larger than " + MAX_BODY + " bytes");
                    return;
                }
                body = JSON.readTree(bytes);
            } catch (IOException e) {
                error(ex, 400, "the body is not JSON");
                return;
            }
            if (body == null
                    || !body.path("query").isTextual()
                    || body.get("query").asText().isBlank()) {
                error(ex, 400, "query (a non-empty string) is required");
                return;
            }
            String name = body.path("collection").asText("default");
            int k = body.path("k").asInt(5);
            if (k < 1 || k > 100) {
                error(ex, 400, "k must be between 1 and 100");
                return;
            }
            JsonNode filter = body.path("filter");
            if (!filter.isMissingNode() && !filter.isNull() && !filter.isObject()) {
                error(ex, 400, "filter must be a JSON object (matched against document metadata with @>)");
                return;
            }
            try {
                List<Searcher.Hit> hits = searcher.search(
                        name, body.get("query").asText(), k, filter.isObject() ? filter.toString() : null);
                if (hits == null) {
                    error(ex, 404, "unknown collection '" + name + "'");
                    return;
                }
                ObjectNode answer = JSON.createObjectNode();
                ArrayNode results = answer.putArray("results");
                for (Searcher.Hit h : hits) {
                    ObjectNode r = results.addObject();
                    r.put("document_id", h.documentId());
                    r.put("title", h.title());
                    r.put("score", h.score());
                    r.put("content", h.content());
                    r.put("chunk_id", h.chunkId());
                    r.set("metadata", readTree(h.metadata()));
                }
                respond(ex, 200, answer);
                sample.stop(latency);
            } catch (SQLException e) {
                log.warn("search failed: {}", e.toString());
                error(ex, 503, "the database is unavailable");
            }
        }
    }

    private static JsonNode readTree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            return JSON.nullNode();
        }
    }

    private static void error(HttpExchange ex, int status, String message) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.put("error", message);
        respond(ex, status, body);
    }

    private static void respond(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(1);
        executor.shutdownNow();
    }
}
