package io.ragline.core.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.TreeMap;

/** The answers of the API endpoints: a JSON body, and a failure as {@code {"error": "..."}} or an RFC 9457 problem. */
public final class JsonAnswers {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonAnswers() {}

    /** {@code status} with {@code {"error": message}}. */
    public static void error(HttpExchange ex, int status, String message) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.put("error", message);
        respond(ex, status, body);
    }

    /**
     * {@code status} as an RFC 9457 problem ({@code application/problem+json}), with the message
     * also as {@code error}, the member clients of {@link #error} read: the token check's 401.
     */
    public static void problem(HttpExchange ex, int status, String slug, String title, String message)
            throws IOException {
        problem(ex, status, slug, title, message, Map.of());
    }

    /** As {@link #problem(HttpExchange, int, String, String, String)}, with {@code errors} (field to message) when any. */
    public static void problem(
            HttpExchange ex, int status, String slug, String title, String message, Map<String, String> errors)
            throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.put("type", "https://ragline.io/problems/" + slug);
        body.put("title", title);
        body.put("status", status);
        body.put("detail", message);
        body.put("instance", ex.getRequestURI().getRawPath());
        body.put("error", message);
        if (!errors.isEmpty()) {
            ObjectNode fields = body.putObject("errors");
            new TreeMap<>(errors).forEach(fields::put);
        }
        respond(ex, status, body, "application/problem+json");
    }

    public static void respond(HttpExchange ex, int status, JsonNode body) throws IOException {
        respond(ex, status, body, "application/json");
    }

    private static void respond(HttpExchange ex, int status, JsonNode body, String type) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", type);
        if ("HEAD".equalsIgnoreCase(ex.getRequestMethod())) {
            ex.sendResponseHeaders(status, -1); // a HEAD answer has no body; a length makes the JDK log a warning
            ex.close();
            return;
        }
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
