package io.ragline.console.system;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A GET of a Ragline admin port ({@code /health/ready}, {@code /metrics}): the status code and, on
 * request, the body. The container image's {@code ragline health} and the console's worker checks
 * both ask through it. Bounded: connecting and reading each within the given time.
 */
public final class AdminProbe {
    /** The readiness path of every admin port ({@code AdminServer}). */
    public static final String READY_PATH = "/health/ready";

    /** The Prometheus path of every admin port. */
    public static final String METRICS_PATH = "/metrics";

    /** Metrics bodies are a few hundred kilobytes at most; a longer one is cut here. */
    private static final int MAX_BODY = 4 * 1024 * 1024;

    private final Duration connectTimeout;
    private final Duration readTimeout;

    public AdminProbe(Duration connectTimeout, Duration readTimeout) {
        this.connectTimeout = connectTimeout;
        this.readTimeout = readTimeout;
    }

    /** What the admin port answered. */
    public record Answer(int status, String body) {}

    /** The status code of a GET of {@code url}, the body left unread. */
    public int status(URI url) throws IOException {
        return get(url, false).status();
    }

    /** A GET of {@code url} with its body (UTF-8), of any status. */
    public Answer get(URI url) throws IOException {
        return get(url, true);
    }

    /**
     * At most {@code MAX_BODY} bytes, all within {@code deadline}: the read timeout bounds each
     * read only, and a worker that sends a byte at a time would otherwise hold a console thread
     * for as long as it likes.
     */
    private static byte[] readWithin(InputStream in, java.time.Duration deadline) throws IOException {
        long end = System.nanoTime() + deadline.toNanos();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while (out.size() < MAX_BODY && (n = in.read(buffer, 0, Math.min(buffer.length, MAX_BODY - out.size()))) >= 0) {
            out.write(buffer, 0, n);
            if (System.nanoTime() > end) {
                throw new java.net.SocketTimeoutException("the answer took longer than " + deadline.toMillis() + " ms");
            }
        }
        return out.toByteArray();
    }

    private Answer get(URI url, boolean body) throws IOException {
        HttpURLConnection c = (HttpURLConnection) url.toURL().openConnection();
        try {
            c.setConnectTimeout((int) connectTimeout.toMillis());
            c.setReadTimeout((int) readTimeout.toMillis());
            c.setInstanceFollowRedirects(false);
            int status = c.getResponseCode();
            if (!body) {
                return new Answer(status, "");
            }
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            if (in == null) {
                return new Answer(status, "");
            }
            try (in) {
                return new Answer(
                        status, new String(readWithin(in, readTimeout.multipliedBy(2)), StandardCharsets.UTF_8));
            }
        } finally {
            c.disconnect();
        }
    }
}
