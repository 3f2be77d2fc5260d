package io.ragline.console.api;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Files from the classpath under a URL prefix: the web console's pages and scripts, and Swagger
 * UI's. They hold no data, so they are served to anyone ({@link
 * io.ragline.core.http.ApiServer#publicRoute}); everything they show comes from {@code /api/v1}
 * behind the token. A path is looked up in each root in turn; only plain names are accepted (no
 * {@code ..}, no encoded characters), so nothing outside the roots can be named.
 */
public final class StaticFiles implements HttpHandler {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "json", "application/json",
            "png", "image/png",
            "svg", "image/svg+xml",
            "txt", "text/plain; charset=utf-8");

    private final String prefix;
    private final List<String> roots;
    private final String index;
    private final String contentSecurityPolicy;

    /**
     * @param prefix the URL path served, ending in {@code /}
     * @param roots classpath folders, each ending in {@code /}, looked in first to last
     * @param index the file answered for the prefix itself
     * @param contentSecurityPolicy the policy of every answer, or null for none
     */
    public StaticFiles(String prefix, List<String> roots, String index, String contentSecurityPolicy) {
        this.prefix = prefix;
        this.roots = List.copyOf(roots);
        this.index = index;
        this.contentSecurityPolicy = contentSecurityPolicy;
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                plain(ex, 405, "use GET\n");
                return;
            }
            String path = ex.getRequestURI().getRawPath();
            if (!path.startsWith(prefix)) {
                plain(ex, 404, "not found\n");
                return;
            }
            String name = path.substring(prefix.length());
            if (name.isEmpty()) {
                name = index;
            }
            if (!SAFE.matcher(name).matches()) {
                plain(ex, 404, "not found\n");
                return;
            }
            byte[] bytes = read(name);
            if (bytes == null) {
                plain(ex, 404, "not found\n");
                return;
            }
            String extension = name.substring(name.lastIndexOf('.') + 1);
            ex.getResponseHeaders().set("Content-Type", TYPES.getOrDefault(extension, "application/octet-stream"));
            ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            ex.getResponseHeaders().set("Referrer-Policy", "no-referrer");
            ex.getResponseHeaders().set("X-Frame-Options", "DENY");
            if (contentSecurityPolicy != null) {
                ex.getResponseHeaders().set("Content-Security-Policy", contentSecurityPolicy);
            }
            if (method.equals("HEAD")) {
                ex.sendResponseHeaders(200, -1);
                return;
            }
            ex.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private byte[] read(String name) throws IOException {
        for (String root : roots) {
            try (InputStream in = StaticFiles.class.getClassLoader().getResourceAsStream(root + name)) {
                if (in != null) {
                    return in.readAllBytes();
                }
            }
        }
        return null;
    }

    private static void plain(HttpExchange ex, int status, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
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
