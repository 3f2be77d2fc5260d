package io.ragline.core.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;

/** The answers of the API endpoints: a JSON body, and every failure as {@code {"error": "..."}}. */
public final class JsonAnswers {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonAnswers() {}

    /** {@code status} with {@code {"error": message}}. */
    public static void error(HttpExchange ex, int status, String message) throws IOException {
        ObjectNode body = JSON.createObjectNode();
        body.put("error", message);
        respond(ex, status, body);
    }

    public static void respond(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
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
