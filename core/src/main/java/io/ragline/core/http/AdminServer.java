package io.ragline.core.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.ragline.core.health.Readiness;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin port of every process: {@code GET /health/live}, {@code GET /health/ready} (503 with
 * the failing checks; {@code warnings} beside them name problems that leave the process ready) and
 * {@code GET /metrics} (Prometheus text format).
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService executor;

    public AdminServer(int port, Readiness readiness, PrometheusMeterRegistry registry) throws IOException {
        this.server = HttpServers.create(port, 64);
        this.executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "admin-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/health/live", ex -> {
            if (allowGet(ex)) {
                respond(ex, 200, "application/json", "{\"status\":\"UP\"}");
            }
        });
        server.createContext("/health/ready", ex -> {
            if (allowGet(ex)) {
                Readiness.Report report = readiness.evaluate();
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("status", report.ready() ? "UP" : "DOWN");
                body.put("checks", report.checks());
                if (!report.warnings().isEmpty()) {
                    body.put("warnings", report.warnings()); // reported, the process ready all the same
                }
                respond(ex, report.ready() ? 200 : 503, "application/json", JSON.writeValueAsString(body));
            }
        });
        server.createContext("/metrics", ex -> {
            if (allowGet(ex)) {
                respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
            }
        });
        server.createContext("/", ex -> respond(ex, 404, "text/plain", "not found\n"));
    }

    public void start() {
        server.start();
        log.info("admin HTTP on port {}: /health/live /health/ready /metrics", port());
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(2));
    }

    public void close(Duration timeout) {
        // Admin requests are short and idempotent: no need to wait for keep-alive connections.
        server.stop(0);
        executor.shutdown();
        try {
            executor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean allowGet(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        if ("GET".equals(method) || "HEAD".equals(method)) {
            return true;
        }
        ex.getResponseHeaders().add("Allow", "GET, HEAD");
        respond(ex, 405, "text/plain", "method not allowed\n");
        return false;
    }

    private static void respond(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", contentType);
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
        ex.close();
    }
}
