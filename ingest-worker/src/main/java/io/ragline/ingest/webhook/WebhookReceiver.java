package io.ragline.ingest.webhook;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.github.resilience4j.ratelimiter.RateLimiter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /webhooks/{source}}: size limit, signature on the raw bytes, rate limit, JSON, then
 * one committed {@code claude_events} row; 2xx only after the commit (also for a duplicate: the
 * same delivery id, or for GitHub the same body, again). The
 * order of the checks is the order of the status codes a sender can get: 404 unknown source, 405
 * not POST, 413 too large (from Content-Length before reading, or after reading one byte past the
 * limit), 401 signature, 429 over the source's rate, 400 not a JSON object or no id/type, 503 the
 * database is unavailable (nothing acknowledged). Error bodies are {@code {"error":"..."}}.
 *
 * <p>Two 503s come without waiting for the database. While it is known to be down (the last insert
 * failed), one request at a time tries it (the probe) and the others are answered at once, so a
 * burst during an outage neither queues behind inserts that will time out nor holds the threads.
 * And a request that reached the server while every thread and queue slot was taken runs on an
 * overflow thread ({@code overloaded} is true there) and is answered 503 before its body is read.
 */
final class WebhookReceiver implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(WebhookReceiver.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    static final String PATH = "/webhooks/";
    /** Headers stored for every scheme, besides each scheme's own ({@link WebhookVerifier#storedHeaders()}). */
    static final List<String> COMMON_HEADERS = List.of("user-agent", "content-type");

    private static final int MAX_ID_LENGTH = 256;
    private static final int MAX_HEADER_VALUE = 512;
    private static final byte[] STORED = "{\"status\":\"stored\"}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] DUPLICATE = "{\"status\":\"duplicate\"}".getBytes(StandardCharsets.UTF_8);
    /** Seconds a sender is asked to wait after a 503. */
    static final String RETRY_AFTER = "5";

    private static final long OVERLOAD_WARNING_INTERVAL_NANOS =
            Duration.ofSeconds(10).toNanos();

    /** One configured source: its settings, verifier and optional rate limiter. */
    record Endpoint(WebhookSettings.Source source, WebhookVerifier verifier, RateLimiter limiter) {}

    private final Map<String, Endpoint> endpoints;
    private final int maxBodyBytes;
    private final WebhookStore store;
    private final WebhookMetrics metrics;
    private final BooleanSupplier overloaded;
    private final AtomicBoolean databaseDown = new AtomicBoolean();
    /** Whether a request is trying the database while it is known to be down. */
    private final AtomicBoolean probing = new AtomicBoolean();

    private final AtomicLong shed = new AtomicLong();
    private final AtomicLong nextOverloadWarning = new AtomicLong(System.nanoTime());

    /** @param overloaded true on a thread whose requests are to be answered 503 at once */
    WebhookReceiver(
            Map<String, Endpoint> endpoints,
            int maxBodyBytes,
            WebhookStore store,
            WebhookMetrics metrics,
            BooleanSupplier overloaded) {
        this.endpoints = Map.copyOf(endpoints);
        this.maxBodyBytes = maxBodyBytes;
        this.store = store;
        this.metrics = metrics;
        this.overloaded = overloaded;
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        long started = System.nanoTime();
        String tag = WebhookMetrics.UNKNOWN_SOURCE;
        int status;
        try {
            Endpoint endpoint = endpoint(ex.getRequestURI().getRawPath());
            tag = endpoint.source().name();
            status = overloaded.getAsBoolean() ? shed(ex) : receive(ex, endpoint);
        } catch (WebhookRejection r) {
            status = r.status();
            log.debug("webhook {} answered {}: {}", tag, status, r.getMessage());
            respond(ex, status, error(r.getMessage()));
        } catch (IOException e) {
            log.debug("webhook {}: connection lost: {}", tag, e.toString());
            ex.close();
            return;
        } catch (RuntimeException e) {
            status = 500;
            log.error("webhook {} failed: {}", tag, e.toString(), e);
            respond(ex, status, error("internal error"));
        }
        metrics.request(tag, status, System.nanoTime() - started);
    }

    private Endpoint endpoint(String path) {
        String name = path != null && path.startsWith(PATH) ? path.substring(PATH.length()) : "";
        Endpoint e = endpoints.get(name);
        if (e == null) {
            throw new WebhookRejection(404, "unknown webhook source");
        }
        return e;
    }

    private int receive(HttpExchange ex, Endpoint endpoint) throws IOException {
        if (!"POST".equals(ex.getRequestMethod())) {
            ex.getResponseHeaders().set("Allow", "POST");
            throw new WebhookRejection(405, "method not allowed: use POST");
        }
        byte[] body = readBody(ex);
        WebhookVerifier.Verified verified =
                endpoint.verifier().verify(name -> ex.getRequestHeaders().getFirst(name), body);
        RateLimiter limiter = endpoint.limiter();
        if (limiter != null && !limiter.acquirePermission()) {
            // Permits are refreshed every second: the next one comes within a second.
            ex.getResponseHeaders().set("Retry-After", "1");
            throw new WebhookRejection(429, "rate limit of " + endpoint.source().rateLimit() + " requests/s exceeded");
        }
        WebhookStore.Event event = event(ex, endpoint, verified, body);
        boolean probe = false;
        if (databaseDown.get()) {
            if (!probing.compareAndSet(false, true)) {
                log.debug(
                        "webhook {} not stored: the database is down and another request is trying it", name(endpoint));
                return unavailable(ex);
            }
            probe = true;
        }
        WebhookStore.Outcome outcome;
        try {
            outcome = store.store(event);
        } catch (SQLException e) {
            return refused(ex, endpoint, e);
        } finally {
            if (probe) {
                probing.set(false);
            }
        }
        if (databaseDown.compareAndSet(true, false)) {
            log.info("webhooks are stored again");
        }
        if (outcome == WebhookStore.Outcome.DUPLICATE) {
            metrics.duplicate(endpoint.source().name());
        }
        respond(ex, 200, outcome == WebhookStore.Outcome.STORED ? STORED : DUPLICATE);
        return 200;
    }

    /**
     * The body, at most {@code maxBodyBytes}: a larger declared length is refused before reading,
     * an undeclared (chunked) one after reading one byte past the limit.
     */
    private byte[] readBody(HttpExchange ex) throws IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            long length;
            try {
                length = Long.parseLong(declared.strip());
            } catch (NumberFormatException e) {
                throw WebhookRejection.badRequest("Content-Length is not a number");
            }
            if (length > maxBodyBytes) {
                throw tooLarge(ex);
            }
        }
        byte[] body = ex.getRequestBody().readNBytes(maxBodyBytes + 1);
        if (body.length > maxBodyBytes) {
            throw tooLarge(ex);
        }
        return body;
    }

    private WebhookRejection tooLarge(HttpExchange ex) {
        ex.getResponseHeaders().set("Connection", "close");
        return new WebhookRejection(413, "body larger than " + maxBodyBytes + " bytes");
    }

    private static WebhookStore.Event event(
            HttpExchange ex, Endpoint endpoint, WebhookVerifier.Verified verified, byte[] body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw WebhookRejection.badRequest("body is not valid JSON");
        }
        if (root == null || !root.isObject()) {
            throw WebhookRejection.badRequest("body must be a JSON object");
        }
        Scheme scheme = endpoint.source().scheme();
        String deliveryId = verified.deliveryId() != null ? verified.deliveryId() : text(root, "id");
        if (deliveryId == null || deliveryId.isBlank()) {
            throw WebhookRejection.badRequest(
                    scheme == Scheme.GITHUB
                            ? "missing X-GitHub-Delivery header"
                            : "payload has no string field \"id\"");
        }
        String eventType = verified.eventType() != null ? verified.eventType() : text(root, "type");
        if (eventType == null || eventType.isBlank()) {
            throw WebhookRejection.badRequest(
                    scheme == Scheme.GITHUB ? "missing X-GitHub-Event header" : "payload has no string field \"type\"");
        }
        if (deliveryId.length() > MAX_ID_LENGTH || eventType.length() > MAX_ID_LENGTH) {
            throw WebhookRejection.badRequest("delivery id or event type longer than " + MAX_ID_LENGTH + " characters");
        }
        return new WebhookStore.Event(
                endpoint.source().name(),
                deliveryId,
                eventType,
                new String(body, StandardCharsets.UTF_8),
                headers(ex, endpoint.verifier()),
                endpoint.source().priority(),
                verified.replayableBody() ? sha256(body) : null);
    }

    private static byte[] sha256(byte[] body) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(body);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    private static String text(JsonNode root, String field) {
        JsonNode n = root.get(field);
        return n != null && n.isTextual() ? n.asText() : null;
    }

    /** The allow-listed headers as a JSON object (lower-case names, first value, capped length). */
    private static String headers(HttpExchange ex, WebhookVerifier verifier) {
        ObjectNode out = JSON.createObjectNode();
        List<String> names = new ArrayList<>(COMMON_HEADERS);
        names.addAll(verifier.storedHeaders());
        for (String name : names) {
            String v = ex.getRequestHeaders().getFirst(name);
            if (v != null) {
                out.put(name, v.length() > MAX_HEADER_VALUE ? v.substring(0, MAX_HEADER_VALUE) : v);
            }
        }
        return out.toString();
    }

    /** A refused insert: bad data is the sender's 400; anything else means not stored, 503. */
    private int refused(HttpExchange ex, Endpoint endpoint, SQLException e) throws IOException {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (state.startsWith("22")) {
            throw WebhookRejection.badRequest("payload cannot be stored as jsonb (SQLSTATE " + state + ")");
        }
        if (databaseDown.compareAndSet(false, true)) {
            log.warn(
                    "webhooks answered 503 until the database accepts them again (one request at a time tries"
                            + " it): {}",
                    e.toString());
        } else {
            log.debug("webhook {} not stored: {}", name(endpoint), e.toString());
        }
        return unavailable(ex);
    }

    private static int unavailable(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().set("Retry-After", RETRY_AFTER);
        respond(ex, 503, error("not stored: the database is unavailable, retry later"));
        return 503;
    }

    /**
     * A request that found every thread busy and the queue full: 503 before reading the body, and
     * the connection closed, so the sender's retry opens a new one.
     */
    private int shed(HttpExchange ex) throws IOException {
        long n = shed.incrementAndGet();
        long now = System.nanoTime();
        long due = nextOverloadWarning.get();
        if (now - due >= 0 && nextOverloadWarning.compareAndSet(due, now + OVERLOAD_WARNING_INTERVAL_NANOS)) {
            log.warn(
                    "webhook requests answered 503: every thread is busy and the queue is full ({} so far;"
                            + " RAGLINE_WEBHOOK_THREADS, RAGLINE_WEBHOOK_DB_TIMEOUT)",
                    n);
        }
        ex.getResponseHeaders().set("Retry-After", RETRY_AFTER);
        ex.getResponseHeaders().set("Connection", "close");
        respond(ex, 503, error("not stored: too many requests in progress, retry later"));
        return 503;
    }

    private static String name(Endpoint endpoint) {
        return endpoint.source().name();
    }

    private static byte[] error(String message) {
        return JSON.createObjectNode().put("error", message).toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void respond(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
        ex.close();
    }
}
