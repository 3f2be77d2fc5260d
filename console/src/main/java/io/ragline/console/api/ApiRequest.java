package io.ragline.console.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.core.http.Caller;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * One request as a handler sees it: the caller, the path's parameters, the query's, the JSON body
 * (parsed on first use; malformed JSON is a 400), and the console's database. Every accessor that
 * reads client input throws {@link ApiProblem} (400) naming the parameter when the input is wrong.
 */
public final class ApiRequest {
    private final Caller caller;
    private final String path;
    private final Map<String, String> pathParameters;
    private final Map<String, String> query;
    private final byte[] body;
    private final DataSource database;
    private JsonNode json;

    ApiRequest(
            Caller caller,
            String path,
            Map<String, String> pathParameters,
            Map<String, String> query,
            byte[] body,
            DataSource database) {
        this.caller = caller;
        this.path = path;
        this.pathParameters = pathParameters;
        this.query = query;
        this.body = body;
        this.database = database;
    }

    public Caller caller() {
        return caller;
    }

    /** The request's path, as called ({@code /api/v1/collections/docs}). */
    public String requestPath() {
        return path;
    }

    /** The value of the template's {@code {name}}, URL-decoded. */
    public String path(String name) {
        String value = pathParameters.get(name);
        if (value == null) {
            throw new IllegalArgumentException("the route has no path parameter {" + name + "}");
        }
        return value;
    }

    /** The path parameter {@code name} as a positive id; anything else is a 404 (no such item). */
    public long pathId(String name) {
        String value = path(name);
        try {
            long id = Long.parseLong(value);
            if (id > 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiProblem.notFound(name + " " + Quote.of(value) + " is not an id that exists");
    }

    public Optional<String> query(String name) {
        return Optional.ofNullable(query.get(name)).filter(v -> !v.isEmpty());
    }

    public String requiredQuery(String name) {
        return query(name).orElseThrow(() -> ApiProblem.badRequest("the query parameter " + name + " is required"));
    }

    /** The query parameter {@code name} as a whole number from {@code min} to {@code max}; {@code fallback} when absent. */
    public long longQuery(String name, long fallback, long min, long max) {
        Optional<String> value = query(name);
        if (value.isEmpty()) {
            return fallback;
        }
        long n;
        try {
            n = Long.parseLong(value.get());
        } catch (NumberFormatException e) {
            throw ApiProblem.badRequest(name + ": not a whole number: " + Quote.of(value.get()));
        }
        if (n < min || n > max) {
            throw ApiProblem.badRequest(name + ": must be " + min + " to " + max + ", was " + n);
        }
        return n;
    }

    public int intQuery(String name, int fallback, int min, int max) {
        return (int) longQuery(name, fallback, min, max);
    }

    /** The page asked for by {@code limit} and {@code after}. */
    public Page.Request page() {
        return Page.request(query("limit"), query("after"));
    }

    /** Whether the request has a body at all (some actions take an optional one). */
    public boolean hasBody() {
        return body.length > 0;
    }

    /** The body as JSON: 400 when it is missing or not JSON. */
    public JsonNode body() {
        if (json == null) {
            if (body.length == 0) {
                throw ApiProblem.badRequest("a JSON body is required");
            }
            try {
                json = Json.MAPPER.readTree(body);
            } catch (JsonProcessingException e) {
                throw ApiProblem.badRequest("the body is not JSON: " + e.getOriginalMessage());
            } catch (java.io.IOException e) {
                throw ApiProblem.badRequest("the body cannot be read: " + e.getMessage());
            }
        }
        return json;
    }

    /** The body as a JSON object: 400 when it is anything else. */
    public ObjectNode object() {
        JsonNode node = body();
        if (!(node instanceof ObjectNode o)) {
            throw ApiProblem.badRequest("the body must be a JSON object, not "
                    + node.getNodeType().name().toLowerCase());
        }
        return o;
    }

    /** The body's raw bytes (a message published as it came). */
    public byte[] rawBody() {
        return body.clone();
    }

    public DataSource database() {
        return database;
    }
}
