package io.ragline.console.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import io.ragline.core.http.ApiServer;
import io.ragline.core.http.ApiTokens.Role;
import io.ragline.core.http.Caller;
import java.io.IOException;
import java.io.OutputStream;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The route table of {@code /api/v1} and its one dispatcher: it matches a request to a {@link
 * Route} (404 for no path, 405 with {@code Allow} for another method), checks the caller's role
 * (403), audits every mutating call ({@link Audit}), bounds and parses the input, runs the handler,
 * and answers JSON, or an RFC 9457 problem for every failure. A client error is never a 500: a
 * handler throws {@link ApiProblem}, and a database refusal that names bad input (a unique or
 * foreign key violation, a check constraint, a data exception) is answered 409 or 422 here. The
 * same table generates the OpenAPI document ({@link OpenApiDocument}).
 */
public final class ApiRoutes {
    public static final String BASE = "/api/v1";
    /** A body larger than this is refused with 413 before it is read further. */
    public static final int MAX_BODY_BYTES = 1 << 20;

    private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);

    private final List<Route> routes = new ArrayList<>();
    private final DataSource database;
    private final DataSource longStatements;
    private final Audit audit;
    private final Set<String> answered = ConcurrentHashMap.newKeySet();
    private volatile boolean frozen;
    private volatile boolean loopbackHostsOnly;

    /**
     * Routes answering from {@code database} (the pipeline's pool), and from {@code longStatements}
     * (connections without the pipeline's socket timeout) for a route marked {@link
     * Route#longStatements()}.
     */
    public ApiRoutes(DataSource database, DataSource longStatements) {
        this.database = database;
        this.longStatements = longStatements;
        this.audit = new Audit(database);
        audit.register(this);
    }

    public Route get(String template, Role role, String summary, Route.Handler handler) {
        return add("GET", template, role, summary, handler);
    }

    public Route post(String template, Role role, String summary, Route.Handler handler) {
        return add("POST", template, role, summary, handler);
    }

    public Route patch(String template, Role role, String summary, Route.Handler handler) {
        return add("PATCH", template, role, summary, handler);
    }

    public Route delete(String template, Role role, String summary, Route.Handler handler) {
        return add("DELETE", template, role, summary, handler);
    }

    private synchronized Route add(String method, String template, Role role, String summary, Route.Handler handler) {
        if (frozen) {
            throw new IllegalStateException("the routes are being served, and their OpenAPI document is written: "
                    + method + " " + template + " comes too late");
        }
        for (Route r : routes) {
            if (r.method().equals(method) && r.template().equals(template)) {
                throw new IllegalArgumentException("two routes for " + r.name());
            }
        }
        Route route = new Route(method, template, role, summary, handler);
        routes.add(route);
        return route;
    }

    /** No route is added after this: the server serves them and the OpenAPI document lists them. */
    public synchronized void freeze() {
        frozen = true;
    }

    /**
     * Answers only requests whose {@code Host} names this machine (an address or {@code
     * localhost}): for a console without tokens on a loopback address, so that a web page the
     * operator visits cannot reach it through a DNS name that resolves to 127.0.0.1 (DNS rebinding).
     */
    public void onlyLoopbackHosts() {
        loopbackHostsOnly = true;
    }

    public synchronized List<Route> routes() {
        return List.copyOf(routes);
    }

    /**
     * Every "METHOD /template STATUS" answered since this table was made: tests check that every
     * route answered each status it declares, and nothing it does not declare.
     */
    public Set<String> answered() {
        return Set.copyOf(answered);
    }

    public DataSource database() {
        return database;
    }

    /** Serves one exchange under {@link #BASE}, behind {@link ApiServer}'s token check. */
    public void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            String[] segments = RequestInput.segments(path);
            if (segments == null) {
                problem(ex, path, ApiProblem.notFound("no such endpoint: " + Quote.of(path)));
                return;
            }
            if (loopbackHostsOnly
                    && !BrowserGuard.loopbackHost(ex.getRequestHeaders().getFirst("Host"))) {
                problem(
                        ex,
                        path,
                        ApiProblem.forbidden("without tokens the console answers only requests addressed to"
                                + " this machine (Host 127.0.0.1, [::1] or localhost)"));
                return;
            }
            // HEAD is GET without the body (RFC 9110).
            String method = ex.getRequestMethod().equals("HEAD") ? "GET" : ex.getRequestMethod();
            List<Route> matching = new ArrayList<>();
            Route route = null;
            Map<String, String> parameters = null;
            for (Route r : routes()) {
                Optional<Map<String, String>> m = r.match(segments);
                if (m.isPresent()) {
                    matching.add(r);
                    if (r.method().equals(method)) {
                        route = r;
                        parameters = m.get();
                    }
                }
            }
            if (matching.isEmpty()) {
                problem(ex, path, ApiProblem.notFound("no such endpoint: " + Quote.of(path)));
                return;
            }
            if (route == null) {
                String allow = matching.stream()
                        .flatMap(r -> r.method().equals("GET") ? Stream.of("GET", "HEAD") : Stream.of(r.method()))
                        .distinct()
                        .collect(Collectors.joining(", "));
                ex.getResponseHeaders().set("Allow", allow);
                problem(
                        ex,
                        path,
                        ApiProblem.methodNotAllowed(ex.getRequestMethod() + " is not allowed here: " + allow));
                return;
            }
            serve(ex, path, route, parameters);
        }
    }

    private void serve(HttpExchange ex, String path, Route route, Map<String, String> parameters) throws IOException {
        Caller caller = ApiServer.caller(ex);
        if (route.mutates()) {
            Optional<ApiProblem> crossSite = BrowserGuard.crossSite(ex);
            if (crossSite.isPresent()) {
                log.warn(
                        "{}: a request from another site was refused (Origin {}, Sec-Fetch-Site {})",
                        route.name(),
                        Quote.of(String.valueOf(ex.getRequestHeaders().getFirst("Origin"))),
                        Quote.of(String.valueOf(ex.getRequestHeaders().getFirst("Sec-Fetch-Site"))));
                answer(ex, path, route, crossSite.get());
                return;
            }
        }
        if (!caller.role().allows(route.role())) {
            String detail = route.name() + " needs the role " + route.role().label() + "; this token is a "
                    + caller.role().label();
            if (route.mutates() && !auditRefusal(caller, route, path, detail)) {
                answer(ex, path, route, ApiProblem.unavailable("the audit log cannot be written: nothing was done"));
                return;
            }
            answer(ex, path, route, ApiProblem.forbidden(detail));
            return;
        }
        Long auditId = null;
        if (route.mutates()) {
            try {
                auditId = audit.begin(caller, route, path);
            } catch (SQLException | RuntimeException e) {
                log.warn("{}: the audit log cannot be written, so the call is refused: {}", route.name(), e.toString());
                answer(ex, path, route, ApiProblem.unavailable("the audit log cannot be written: nothing was done"));
                return;
            }
        }
        ApiResponse response = null;
        ApiProblem problem = null;
        try {
            // A GET's body, if any, is never read: it means nothing here.
            byte[] body = route.method().equals("GET") ? new byte[0] : RequestInput.body(ex);
            ApiRequest request = new ApiRequest(
                    caller,
                    path,
                    parameters,
                    RequestInput.query(ex.getRequestURI().getRawQuery()),
                    body,
                    route.runsLong() ? longStatements : database);
            response = route.handler().handle(request);
        } catch (Exception e) {
            problem = problemOf(route, e);
        } catch (Error e) {
            finish(
                    route,
                    auditId,
                    500,
                    "failed inside the console: " + e.getClass().getSimpleName());
            throw e;
        }
        int status = problem == null ? response.status() : problem.status();
        finish(route, auditId, status, problem == null ? response.outcome() : problem.getMessage());
        answered.add(route.name() + " " + status);
        try {
            if (problem == null) {
                write(ex, status, response.body(), "application/json");
            } else {
                write(ex, status, problem.body(path), "application/problem+json");
            }
        } catch (IOException e) {
            // The outcome is recorded already; only its answer was lost (the client went away).
            log.info("{}: the answer ({}) could not be sent: {}", route.name(), status, e.toString());
        }
    }

    private void finish(Route route, Long auditId, int status, String outcome) {
        if (auditId == null) {
            return;
        }
        try {
            audit.finish(auditId, status, outcome);
        } catch (SQLException | RuntimeException e) {
            // The action ran; its row stays without an outcome, which the log reads as "stopped first".
            log.warn(
                    "{}: the outcome ({}) could not be written to audit_log row {}: {}",
                    route.name(),
                    status,
                    auditId,
                    e.toString());
        }
    }

    private boolean auditRefusal(Caller caller, Route route, String path, String detail) {
        try {
            audit.refused(caller, route, path, detail);
            return true;
        } catch (SQLException e) {
            log.warn("{}: a refusal could not be written to the audit log: {}", route.name(), e.toString());
            return false;
        }
    }

    private void answer(HttpExchange ex, String path, Route route, ApiProblem problem) throws IOException {
        answered.add(route.name() + " " + problem.status());
        write(ex, problem.status(), problem.body(path), "application/problem+json");
    }

    private static void problem(HttpExchange ex, String path, ApiProblem problem) throws IOException {
        write(ex, problem.status(), problem.body(path), "application/problem+json");
    }

    private static ApiProblem problemOf(Route route, Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ApiProblem p) {
                return p;
            }
            if (t instanceof java.util.concurrent.TimeoutException
                    || t instanceof org.apache.kafka.common.errors.TimeoutException
                    || t instanceof org.apache.kafka.common.errors.RetriableException) {
                // Kafka not answering is an outage, not a fault of the request: it may work later.
                log.warn("{}: Kafka did not answer: {}", route.name(), t.toString());
                return ApiProblem.unavailable("Kafka did not answer in time; try again later");
            }
            if (t instanceof SQLException s && s.getSQLState() != null) {
                String state = s.getSQLState();
                String message = firstLine(s.getMessage());
                if (state.equals("23505") || state.equals("23503")) {
                    return ApiProblem.conflict(message);
                }
                if (state.equals("23514") || state.equals("23502") || state.startsWith("22")) {
                    return ApiProblem.unprocessable(message, Map.of());
                }
            }
        }
        log.error("{} failed: {}", route.name(), e.toString(), e);
        return new ApiProblem(
                500,
                "internal",
                "Internal error",
                "the request failed inside the console; its log" + " has the cause",
                Map.of());
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "refused by the database";
        }
        int newline = message.indexOf('\n');
        String line = (newline < 0 ? message : message.substring(0, newline)).replaceFirst("^ERROR: ", "");
        return line.length() <= 300 ? line : line.substring(0, 300) + "...";
    }

    private static void write(HttpExchange ex, int status, JsonNode body, String type) throws IOException {
        if (body == null || status == 204) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        byte[] bytes = Json.MAPPER.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", type);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
