package io.ragline.console.api;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** A request's path, query and body as the dispatcher reads them: decoded, bounded, checked. */
final class RequestInput {
    /** How much of a body too large is read (and dropped) so that its sender sees the 413. */
    static final long DRAIN_BYTES = 16L << 20;

    private RequestInput() {}

    /** The path's segments below {@link ApiRoutes#BASE}, each URL-decoded; null when the path is not below it. */
    static String[] segments(String rawPath) {
        if (rawPath == null || !rawPath.startsWith(ApiRoutes.BASE + "/")) {
            return null;
        }
        String[] raw = rawPath.substring(ApiRoutes.BASE.length() + 1).split("/", -1);
        String[] decoded = new String[raw.length];
        for (int i = 0; i < raw.length; i++) {
            try {
                decoded[i] = URLDecoder.decode(raw[i].replace("+", "%2B"), StandardCharsets.UTF_8);
                if (decoded[i].indexOf('/') >= 0 || decoded[i].chars().anyMatch(Character::isISOControl)) {
                    return null; // an encoded slash or a control character names nothing here
                }
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        return decoded;
    }

    static Map<String, String> query(String raw) {
        Map<String, String> values = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return values;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            try {
                name = URLDecoder.decode(name, StandardCharsets.UTF_8);
                value = URLDecoder.decode(value, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw ApiProblem.badRequest("the query string is not URL-encoded correctly");
            }
            if (values.putIfAbsent(name, value) != null) {
                throw ApiProblem.badRequest("the query parameter " + Quote.of(name) + " is given twice");
            }
        }
        return values;
    }

    static byte[] body(HttpExchange ex) throws IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.strip()) > ApiRoutes.MAX_BODY_BYTES) {
                    try (InputStream in = ex.getRequestBody()) {
                        drain(in);
                    }
                    throw ApiProblem.tooLarge("the body is over " + ApiRoutes.MAX_BODY_BYTES + " bytes");
                }
            } catch (NumberFormatException e) {
                throw ApiProblem.badRequest("Content-Length is not a number");
            }
        }
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readNBytes(ApiRoutes.MAX_BODY_BYTES + 1);
            if (body.length > ApiRoutes.MAX_BODY_BYTES) {
                drain(in);
                throw ApiProblem.tooLarge("the body is over " + ApiRoutes.MAX_BODY_BYTES + " bytes");
            }
        }
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (body.length > 0 && type != null && !json(type)) {
            throw ApiProblem.unsupportedMediaType("the body must be application/json, not " + Quote.of(type));
        }
        return body;
    }

    /**
     * Reads and drops what is left of a refused body, up to {@link #DRAIN_BYTES}: a client still
     * sending when the answer comes would otherwise see its connection reset instead of the 413.
     * Beyond that the connection is closed, as the JDK's server does for any unread body.
     */
    private static void drain(InputStream in) throws IOException {
        byte[] sink = new byte[64 * 1024];
        long left = DRAIN_BYTES;
        int n;
        while (left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) > 0) {
            left -= n;
        }
    }

    /** {@code application/json} or a {@code +json} type, with any parameters. */
    private static boolean json(String contentType) {
        String media = contentType.split(";", 2)[0].strip().toLowerCase(java.util.Locale.ROOT);
        return media.equals("application/json") || (media.startsWith("application/") && media.endsWith("+json"));
    }
}
