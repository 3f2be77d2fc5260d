package io.ragline.embedding.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.consumer.FailureKind;
import io.ragline.core.consumer.FailurePolicy;
import io.ragline.core.http.ApiServer;
import io.ragline.core.http.HttpSettings;
import io.ragline.core.http.JsonAnswers;
import io.ragline.embedding.ProviderFailure;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import java.io.IOException;
import java.io.InputStream;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /search} with {@code {"query","collection","k","filter","mode","min_score",
 * "group_by_document","context"}} ({@link SearchJson}): embeds the query with the collection's
 * model (and its query prefix) unless the mode is text, and answers the top {@code k} hits from
 * {@code search_documents}: {@code {"results":[{"document_id","title","content","score",
 * "chunk_id","metadata","seq","matching_chunks","context","vector_score","text_score"}]}}.
 *
 * <p>It is an {@link ApiServer}: with {@code RAGLINE_API_TOKENS} set, a request without a valid
 * {@code Authorization: Bearer} token is answered 401 before it is read.
 *
 * <p>Every failure is answered with a status and {@code {"error": "..."}}: 400 for a bad request
 * (naming the field) or a value the database refuses ({@link SearchRefusal}, SQLSTATE class 22: an
 * RFC 9457 problem whose {@code errors} names the field, {@code filter} for a bad filter), 404 for an unknown
 * collection (also one dropped while the request runs), 405 for another method, 413 for a body
 * over 64 KiB, 502 when the embedding endpoint refuses the query, 500 when the query cannot be
 * embedded here (a model this worker cannot run) or anything else fails, 503 with {@code
 * Retry-After} when the embedding service or the database is unavailable.
 */
public final class SearchServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SearchServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 64 * 1024;

    /** {@code k} when the request has none. */
    public static final int DEFAULT_K = SearchJson.DEFAULT_K;

    public static final int MAX_K = SearchJson.MAX_K;

    /** What a 503 tells the client to wait, in seconds: a guess; the request itself says nothing. */
    static final int RETRY_AFTER_SECONDS = 5;

    /** Which failures are the database being unavailable: the consumers' transient ones. */
    private static final FailurePolicy DATABASE = FailurePolicy.defaults();

    /** What the server serves, in messages. */
    public static final String NAME = "POST /search";

    private final ApiServer server;
    private final ExecutorService executor;
    private final Searcher searcher;
    private final Timer latency;

    /** Serves {@code POST /search} on {@code port} ({@code portVariable}) as {@code http} says. */
    public SearchServer(
            HttpSettings http,
            int port,
            String portVariable,
            DataSource dataSource,
            CollectionCatalog catalog,
            Function<Collection, EmbeddingProvider> providers,
            MeterRegistry registry) {
        this.searcher = new Searcher(dataSource, catalog, providers);
        this.latency = Timer.builder("ragline.search.latency")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
        this.executor =
                Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
                    Thread t = new Thread(r, "search-http");
                    t.setDaemon(true);
                    return t;
                });
        try {
            this.server = new ApiServer(NAME, http, port, portVariable, 128, executor).route("/search", this::handle);
        } catch (RuntimeException e) {
            executor.shutdown();
            throw e;
        }
        server.start();
    }

    public int port() {
        return server.port();
    }

    /** A request refused before it runs: 400 (or 413) with a message naming the field. */
    private static final class BadRequest extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        BadRequest(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (!"POST".equals(ex.getRequestMethod())) {
                ex.getResponseHeaders().set("Allow", "POST");
                error(ex, 405, "use POST");
                return;
            }
            Timer.Sample sample = Timer.start();
            SearchJson.Request request;
            try {
                request = read(ex);
            } catch (BadRequest e) {
                error(ex, e.status, e.getMessage());
                return;
            }
            try {
                List<Searcher.Hit> hits = searcher.search(request);
                if (hits == null) {
                    error(ex, 404, "unknown collection '" + request.collection() + "'");
                    return;
                }
                respond(ex, 200, SearchJson.results(hits));
                sample.stop(latency);
            } catch (SQLException e) {
                databaseFailed(ex, request, e);
            } catch (EmbeddingException e) {
                embeddingFailed(ex, request, e);
            } catch (RuntimeException e) {
                log.error("search in collection '{}' failed", request.collection(), e);
                if (ex.getResponseCode() == -1) {
                    error(ex, 500, "search failed: " + e);
                }
            }
        }
    }

    /** The request's fields, each checked: a wrong type is refused, never coerced. */
    private static SearchJson.Request read(HttpExchange ex) throws BadRequest {
        JsonNode body;
        try (InputStream in = ex.getRequestBody()) {
            byte[] bytes = in.readNBytes(MAX_BODY + 1);
            if (bytes.length > MAX_BODY) {
                throw new BadRequest(413, "the request is larger than " + MAX_BODY + " bytes");
            }
            body = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new BadRequest(400, "the body is not JSON");
        }
        try {
            return SearchJson.request(body);
        } catch (SearchJson.InvalidRequest e) {
            throw new BadRequest(400, e.getMessage());
        }
    }

    /**
     * A {@link SearchRefusal} (SQLSTATE class 22 but 22000: a bad filter, a NUL in it) is the
     * client's: 400, as a problem naming the field. P0002 is a collection dropped since the
     * catalog saw it: 404. The database unreachable or overloaded (08, 53, timeouts, the pool
     * out of connections): 503. Anything else: 500.
     */
    private static void databaseFailed(HttpExchange ex, SearchJson.Request request, SQLException e) throws IOException {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String message = firstLine(e.getMessage());
        Optional<SearchRefusal> refusal = SearchRefusal.of(e);
        if (refusal.isPresent()) {
            log.debug("search in collection '{}' refused by the database: {}", request.collection(), message);
            SearchRefusal r = refusal.get();
            JsonAnswers.problem(ex, 400, "bad-request", "Bad request", r.detail(), r.errors());
        } else if (state.equals("P0002")) {
            error(ex, 404, "unknown collection '" + request.collection() + "'");
        } else if (DATABASE.classify(e) == FailureKind.TRANSIENT) {
            log.warn("search in collection '{}' failed, answered 503: {}", request.collection(), e.toString());
            unavailable(ex, "the database is unavailable");
        } else {
            log.error("search in collection '{}' failed, answered 500: {}", request.collection(), e.toString());
            error(ex, 500, "search failed in the database (SQLSTATE " + state + "): " + message);
        }
    }

    /**
     * Unavailable (a retry may succeed): 503. The endpoint refused the query with an HTTP status:
     * 502, its message only in the log (it names the endpoint). Otherwise the model cannot run
     * here: 500 with the reason.
     */
    private static void embeddingFailed(HttpExchange ex, SearchJson.Request request, EmbeddingException e)
            throws IOException {
        if (ProviderFailure.of(e) == ProviderFailure.UNAVAILABLE) {
            log.warn(
                    "search in collection '{}': embedding the query failed, answered 503: {}",
                    request.collection(),
                    e.getMessage());
            unavailable(ex, "the embedding service is unavailable");
            return;
        }
        OptionalInt status = ProviderFailure.httpStatus(e);
        if (status.isPresent()) {
            log.warn(
                    "search in collection '{}': embedding the query failed, answered 502: {}",
                    request.collection(),
                    e.getMessage());
            error(
                    ex,
                    502,
                    "the embedding endpoint answered " + status.getAsInt()
                            + " to the query (its message is in the embedding-worker's log)");
        } else {
            log.error(
                    "search in collection '{}': embedding the query failed, answered 500: {}",
                    request.collection(),
                    e.getMessage());
            error(ex, 500, "the query cannot be embedded: " + e.getMessage());
        }
    }

    private static void unavailable(HttpExchange ex, String message) throws IOException {
        ex.getResponseHeaders().set("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
        error(ex, 503, message + "; retry later");
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int eol = message.indexOf('\n');
        return (eol < 0 ? message : message.substring(0, eol))
                .replaceFirst("^ERROR: ", "")
                .strip();
    }

    private static void error(HttpExchange ex, int status, String message) throws IOException {
        JsonAnswers.error(ex, status, message);
    }

    private static void respond(HttpExchange ex, int status, JsonNode body) throws IOException {
        JsonAnswers.respond(ex, status, body);
    }

    @Override
    public void close() {
        server.stop(1);
        executor.shutdownNow();
    }
}
