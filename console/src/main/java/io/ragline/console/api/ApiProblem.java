package io.ragline.console.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.TreeMap;

/**
 * A request the API refuses, answered as an RFC 9457 problem ({@code application/problem+json}):
 * {@code type}, {@code title}, {@code status}, {@code detail}, {@code instance} (the path), and
 * {@code errors} (field to message) for a 422. Thrown by handlers; {@link ApiRoutes} answers it.
 */
public final class ApiProblem extends RuntimeException {
    private static final String TYPES = "https://ragline.io/problems/";

    private final int status;
    private final String title;
    private final String type;
    private final Map<String, String> errors;

    public ApiProblem(int status, String type, String title, String detail, Map<String, String> errors) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
        this.title = title;
        this.errors = new TreeMap<>(errors);
    }

    public static ApiProblem badRequest(String detail) {
        return new ApiProblem(400, "bad-request", "Bad request", detail, Map.of());
    }

    public static ApiProblem forbidden(String detail) {
        return new ApiProblem(403, "forbidden", "Forbidden", detail, Map.of());
    }

    public static ApiProblem notFound(String detail) {
        return new ApiProblem(404, "not-found", "Not found", detail, Map.of());
    }

    public static ApiProblem methodNotAllowed(String detail) {
        return new ApiProblem(405, "method-not-allowed", "Method not allowed", detail, Map.of());
    }

    public static ApiProblem conflict(String detail) {
        return new ApiProblem(409, "conflict", "Conflict", detail, Map.of());
    }

    public static ApiProblem tooLarge(String detail) {
        return new ApiProblem(413, "too-large", "Request body too large", detail, Map.of());
    }

    public static ApiProblem unsupportedMediaType(String detail) {
        return new ApiProblem(415, "unsupported-media-type", "Unsupported media type", detail, Map.of());
    }

    /** Valid JSON that breaks a rule; {@code errors} names each field and what is wrong with it. */
    public static ApiProblem unprocessable(String detail, Map<String, String> errors) {
        return new ApiProblem(422, "invalid", "Invalid request", detail, errors);
    }

    /** A dependency (Kafka, a worker) cannot be reached: the request may work later. */
    public static ApiProblem unavailable(String detail) {
        return new ApiProblem(503, "unavailable", "Service unavailable", detail, Map.of());
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }

    public ObjectNode body(String instance) {
        ObjectNode body = Json.object();
        body.put("type", TYPES + type);
        body.put("title", title);
        body.put("status", status);
        body.put("detail", getMessage());
        body.put("instance", instance);
        if (!errors.isEmpty()) {
            ObjectNode fields = body.putObject("errors");
            errors.forEach(fields::put);
        }
        return body;
    }
}
