package io.ragline.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Route;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.http.HttpSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * The console in the test's JVM: a worker runtime on the test's schema and broker, the API areas
 * a test gives, and the real {@link ConsoleServer} on a free loopback port with one token per role
 * ({@link #VIEWER}, {@link #OPERATOR}, {@link #ADMIN}, named vera, otto and ada in the audit log).
 */
public final class ConsoleTestServer implements AutoCloseable {
    public static final String VIEWER = "viewer-token-0123456789abcdef";
    public static final String OPERATOR = "operator-token-0123456789abcdef";
    public static final String ADMIN = "admin-token-0123456789abcdef";
    public static final String TOKENS = "viewer:vera:" + VIEWER + ",operator:otto:" + OPERATOR + ",admin:ada:" + ADMIN;

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final WorkerRuntime runtime;
    private final ApiRoutes routes;
    private final ConsoleServer server;

    private ConsoleTestServer(WorkerRuntime runtime, ApiRoutes routes, ConsoleServer server) {
        this.runtime = runtime;
        this.routes = routes;
        this.server = server;
    }

    /**
     * Starts the console on {@code base} (a {@code PostgresSchema}'s env, plus a topic prefix) with
     * the routes {@code areas} registers (the audit log's are always there).
     */
    public static ConsoleTestServer start(Map<String, String> base, BiConsumer<WorkerRuntime, ApiRoutes> areas) {
        return start(base, areas, TOKENS);
    }

    /** As {@link #start(Map, BiConsumer)}, with {@code tokens} ({@code null}: none, anonymous on loopback). */
    public static ConsoleTestServer start(
            Map<String, String> base, BiConsumer<WorkerRuntime, ApiRoutes> areas, String tokens) {
        Map<String, String> values = new HashMap<>(base);
        values.putIfAbsent("RAGLINE_ADMIN_PORT", "0");
        if (tokens != null) {
            values.put("RAGLINE_API_TOKENS", tokens);
        }
        values.put("RAGLINE_HTTP_HOST", HttpSettings.LOOPBACK_HOST);
        Env env = new Env(values);
        HttpSettings http = HttpSettings.forApi(env, HttpSettings.LOOPBACK_HOST, ConsoleServer.NAME);
        env.validate();
        WorkerRuntime runtime = WorkerRuntime.start(Console.NAME, 0, env);
        try {
            ApiRoutes routes = new ApiRoutes(runtime.dataSource(), runtime.longStatements());
            areas.accept(runtime, routes);
            ConsoleServer server = runtime.manage(new ConsoleServer(http, 0, "RAGLINE_HTTP_PORT", routes, "test"));
            runtime.markStarted();
            return new ConsoleTestServer(runtime, routes, server);
        } catch (RuntimeException | Error e) {
            runtime.close();
            throw e;
        }
    }

    public WorkerRuntime runtime() {
        return runtime;
    }

    public ApiRoutes routes() {
        return routes;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    public HttpResponse<String> get(String path, String token) throws Exception {
        return send("GET", path, token, null);
    }

    public HttpResponse<String> post(String path, String token, String json) throws Exception {
        return send("POST", path, token, json);
    }

    public HttpResponse<String> patch(String path, String token, String json) throws Exception {
        return send("PATCH", path, token, json);
    }

    public HttpResponse<String> delete(String path, String token) throws Exception {
        return send("DELETE", path, token, null);
    }

    /** {@code method} on {@code path} (under the server, e.g. {@code /api/v1/audit}) with a JSON body or none. */
    public HttpResponse<String> send(String method, String path, String token, String json) throws Exception {
        return send(method, path, token, json, Map.of());
    }

    /** As {@link #send(String, String, String, String)}, with more request headers. */
    public HttpResponse<String> send(String method, String path, String token, String json, Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60));
        headers.forEach(request::header);
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        request.method(
                method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Every route whose template starts with {@code prefix} answered, in this server's life, each
     * status it declares, and no status its OpenAPI description does not list.
     */
    public void assertEveryRouteAnswered(String prefix) {
        Set<String> answered = routes.answered();
        List<String> missing = new ArrayList<>();
        List<String> undeclared = new ArrayList<>();
        for (Route route : routes.routes()) {
            if (!route.template().startsWith(prefix)) {
                continue;
            }
            for (int status : route.declaredAnswers().keySet()) {
                if (!answered.contains(route.name() + " " + status)) {
                    missing.add(route.name() + " " + status);
                }
            }
            for (String a : answered) {
                if (a.startsWith(route.name() + " ")) {
                    int status = Integer.parseInt(a.substring(a.lastIndexOf(' ') + 1));
                    if (!route.answers().containsKey(status)) {
                        undeclared.add(a);
                    }
                }
            }
        }
        assertThat(new TreeSet<>(missing)).as("declared answers no test saw").isEmpty();
        assertThat(new TreeSet<>(undeclared))
                .as("answers seen that the OpenAPI document does not list")
                .isEmpty();
    }

    @Override
    public void close() {
        runtime.close();
    }
}
