package io.ragline.console.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.core.http.ApiTokens.Role;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One endpoint of the API: its method, path template ({@code /collections/{name}}, under {@code
 * /api/v1}), the role it needs, its handler, and what the OpenAPI document says of it. Built by
 * {@link ApiRoutes#get} and its siblings; {@link #describe} fills in the document.
 */
public final class Route {
    private static final Pattern PARAMETER = Pattern.compile("\\{([a-z_]+)}");

    /** A handler: reads the request, answers, or throws {@link ApiProblem}. */
    @FunctionalInterface
    public interface Handler {
        ApiResponse handle(ApiRequest request) throws Exception;
    }

    /** A query parameter as documented. */
    public record Parameter(String name, String description, JsonNode schema, boolean required) {}

    /** An answer as documented: its status, meaning and body schema (null for none or a problem). */
    public record Answer(int status, String description, JsonNode schema) {}

    private final String method;
    private final String template;
    private final Role role;
    private final String summary;
    private final Handler handler;
    private final List<String> pathParameters = new ArrayList<>();
    private final List<Parameter> queryParameters = new ArrayList<>();
    private final Map<Integer, Answer> answers = new LinkedHashMap<>();
    private final String[] segments;
    private String tag;
    private String description;
    private JsonNode body;
    private boolean readOnly;
    private boolean longStatements;

    Route(String method, String template, Role role, String summary, Handler handler) {
        if (!template.startsWith("/") || template.endsWith("/")) {
            throw new IllegalArgumentException("a route's path starts with / and does not end with one: " + template);
        }
        this.method = method;
        this.template = template;
        this.role = role;
        this.summary = summary;
        this.handler = handler;
        this.segments = template.substring(1).split("/");
        Matcher m = PARAMETER.matcher(template);
        while (m.find()) {
            pathParameters.add(m.group(1));
        }
        this.tag = segments[0];
    }

    /** Documents the route: {@code describe(r -> r.query(...).body(...).answers(404, "..."))}. */
    public Route describe(java.util.function.Consumer<Route> documentation) {
        documentation.accept(this);
        return this;
    }

    /** Longer words than the summary, for the OpenAPI document. */
    public Route description(String text) {
        this.description = text;
        return this;
    }

    /** A POST that changes nothing (a search): not audited, open to the role it names. */
    public Route readOnly() {
        this.readOnly = true;
        return this;
    }

    public Route tag(String name) {
        this.tag = name;
        return this;
    }

    public Route query(String name, String description, JsonNode schema) {
        queryParameters.add(new Parameter(name, description, schema, false));
        return this;
    }

    public Route requiredQuery(String name, String description, JsonNode schema) {
        queryParameters.add(new Parameter(name, description, schema, true));
        return this;
    }

    /** The paging parameters {@code limit} and {@code after} ({@link Page}). */
    public Route paged() {
        query(
                "limit",
                "at most this many items (1 to " + Page.MAX_LIMIT + ", default " + Page.DEFAULT_LIMIT + ")",
                Schemas.integer(1, Page.MAX_LIMIT));
        query("after", "the `next` cursor of the page before", Schemas.string());
        return this;
    }

    /** The JSON body the route takes. */
    public Route body(JsonNode schema) {
        this.body = schema;
        return this;
    }

    /** A successful answer and its body's schema ({@code null}: no body). */
    public Route answers(int status, String description, JsonNode schema) {
        answers.put(status, new Answer(status, description, schema));
        return this;
    }

    /** An error the route can answer (as a problem), and when. */
    public Route fails(int status, String when) {
        answers.put(status, new Answer(status, when, null));
        return this;
    }

    public String method() {
        return method;
    }

    public String template() {
        return template;
    }

    public Role role() {
        return role;
    }

    Handler handler() {
        return handler;
    }

    public String summary() {
        return summary;
    }

    public Optional<String> descriptionText() {
        return Optional.ofNullable(description);
    }

    public String tagName() {
        return tag;
    }

    public List<String> pathParameters() {
        return List.copyOf(pathParameters);
    }

    public List<Parameter> queryParameters() {
        return List.copyOf(queryParameters);
    }

    public Optional<JsonNode> bodySchema() {
        return Optional.ofNullable(body);
    }

    /**
     * Every answer declared, and those the dispatcher can give on any route of its kind: 400 (a
     * malformed query, such as a parameter given twice), 401, 500; 403 on a route above viewer or
     * one that changes something (a request from another site); 413 and 415 where a body is read;
     * 503 where the audit log must be written first.
     */
    public Map<Integer, Answer> answers() {
        Map<Integer, Answer> all = new LinkedHashMap<>(answers);
        all.putIfAbsent(400, new Answer(400, "a malformed query parameter or body", null));
        all.putIfAbsent(401, new Answer(401, "no bearer token, or one that is not valid", null));
        if (role != Role.VIEWER || mutates()) {
            all.putIfAbsent(
                    403,
                    new Answer(
                            403,
                            "the token's role is below " + role.label()
                                    + ", or a browser sent the request from another site",
                            null));
        }
        if (!method.equals("GET")) {
            all.putIfAbsent(413, new Answer(413, "a body over 1 MiB", null));
            all.putIfAbsent(415, new Answer(415, "a body that is not application/json", null));
        }
        if (mutates()) {
            all.putIfAbsent(503, new Answer(503, "the audit log cannot be written: nothing was done", null));
        }
        all.putIfAbsent(500, new Answer(500, "an unexpected failure (the console's log has it)", null));
        return all;
    }

    /** Only the answers the route declared itself: each must be seen in a test. */
    public Map<Integer, Answer> declaredAnswers() {
        return Map.copyOf(answers);
    }

    /**
     * The route's work legitimately runs long (an index build, a bulk update of a collection's rows):
     * its request's {@link ApiRequest#database()} is the long-statement pool, whose connections the
     * pipeline's socket timeout ({@code RAGLINE_DB_SOCKET_TIMEOUT}) does not cut. The one place that
     * says which operations are long is the routes that call this.
     */
    public Route longStatements() {
        this.longStatements = true;
        return this;
    }

    public boolean runsLong() {
        return longStatements;
    }

    /** Whether the route changes something, so that the audit log records it. */
    public boolean mutates() {
        return !method.equals("GET") && !readOnly;
    }

    /** "POST /collections/{name}/pause", as the audit log and the coverage check name a route. */
    public String name() {
        return method + " " + template;
    }

    /** The path parameters of {@code path} (below {@code /api/v1}) when it matches, URL-decoded. */
    Optional<Map<String, String>> match(String[] pathSegments) {
        if (pathSegments.length != segments.length) {
            return Optional.empty();
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            if (s.startsWith("{")) {
                if (pathSegments[i].isEmpty()) {
                    return Optional.empty();
                }
                values.put(s.substring(1, s.length() - 1), pathSegments[i]);
            } else if (!s.equals(pathSegments[i])) {
                return Optional.empty();
            }
        }
        return Optional.of(values);
    }
}
