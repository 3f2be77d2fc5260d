package io.ragline.console;

import com.sun.net.httpserver.HttpExchange;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.OpenApiDocument;
import io.ragline.console.api.StaticFiles;
import io.ragline.core.http.ApiServer;
import io.ragline.core.http.HttpSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The console's HTTP(S) server: the API under {@code /api/v1} behind the bearer token check, and,
 * public because they hold no data, its OpenAPI document ({@code /api/v1/openapi.json}), Swagger UI
 * ({@code /api/v1/docs/}) and the web console ({@code /}). It keeps no state of its own: every
 * request reads and writes Postgres or Kafka, so the console scales by running more replicas.
 */
public final class ConsoleServer implements AutoCloseable {
    /** What the server serves, in messages. */
    public static final String NAME = "the console (/api/v1 and /)";

    static final String SWAGGER_UI = "META-INF/resources/webjars/swagger-ui/";

    /**
     * The console's pages load only this process's own files: no inline script, no other origin
     * (so no CDN), and no framing.
     */
    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self';"
            + " img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    private final ApiServer server;
    private final ExecutorService executor;
    private final byte[] openApi;

    /** Swagger UI's page: only this process's files; its styles are partly inline. */
    static final String SWAGGER_UI_POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
            + " img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

    /** Threads answering requests: a slow client holds one for at most the request bound (30 s). */
    static final int THREADS = 16;

    public ConsoleServer(HttpSettings http, int port, String portVariable, ApiRoutes routes, String version) {
        routes.freeze();
        if (http.tokens().isEmpty() && http.isLoopback()) {
            routes.onlyLoopbackHosts();
        }
        try {
            this.openApi = io.ragline.console.api.Json.MAPPER
                    .writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(OpenApiDocument.of(routes.routes(), version));
        } catch (IOException e) {
            throw new IllegalStateException("the OpenAPI document cannot be written", e);
        }
        this.executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "console-http");
            t.setDaemon(true);
            return t;
        });
        try {
            this.server = new ApiServer(NAME, http, port, portVariable, 128, executor)
                    .route(ApiRoutes.BASE, routes::handle)
                    .publicRoute(ApiRoutes.BASE + "/openapi.json", this::openApi)
                    .publicRoute(ApiRoutes.BASE + "/docs", ConsoleServer::toDocs)
                    .publicRoute(
                            ApiRoutes.BASE + "/docs/",
                            new StaticFiles(
                                    ApiRoutes.BASE + "/docs/",
                                    List.of("io/ragline/console/docs/", SWAGGER_UI + swaggerUiVersion() + "/"),
                                    "index.html",
                                    SWAGGER_UI_POLICY))
                    .publicRoute(
                            "/",
                            new StaticFiles(
                                    "/", List.of("io/ragline/console/web/"), "index.html", CONTENT_SECURITY_POLICY));
        } catch (RuntimeException e) {
            executor.shutdown();
            throw e;
        }
        server.start();
    }

    public int port() {
        return server.port();
    }

    private void openApi(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            if (!ex.getRequestURI().getRawPath().equals(ApiRoutes.BASE + "/openapi.json")) {
                problem(ex, 404, "not-found", "Not found", "no such document");
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                problem(ex, 405, "method-not-allowed", "Method not allowed", "the document is read with GET");
                return;
            }
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            if (method.equals("HEAD")) {
                ex.sendResponseHeaders(200, -1);
                return;
            }
            ex.sendResponseHeaders(200, openApi.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(openApi);
            }
        }
    }

    /** {@code /api/v1/docs} without its slash: to Swagger UI's page, whose files are relative to it. */
    private static void toDocs(HttpExchange ex) throws IOException {
        try (ex) {
            if (!ex.getRequestURI().getRawPath().equals(ApiRoutes.BASE + "/docs")) {
                problem(ex, 404, "not-found", "Not found", "no such page");
                return;
            }
            ex.getResponseHeaders().set("Location", ApiRoutes.BASE + "/docs/");
            ex.sendResponseHeaders(308, -1);
        }
    }

    private static void problem(HttpExchange ex, int status, String type, String title, String detail)
            throws IOException {
        io.ragline.core.http.JsonAnswers.problem(ex, status, type, title, detail);
    }

    /** The version of the Swagger UI webjar on the classpath (its files live under a folder named by it). */
    static String swaggerUiVersion() {
        try (var in = ConsoleServer.class
                .getClassLoader()
                .getResourceAsStream("META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
            if (in == null) {
                throw new IllegalStateException("the swagger-ui webjar is not on the classpath");
            }
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new IllegalStateException("the swagger-ui webjar cannot be read", e);
        }
    }

    @Override
    public void close() {
        server.stop(1);
        executor.shutdown();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
