package io.ragline.core.http;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * Creates the JDK HTTP servers of a process (admin, webhooks, API) with {@code TCP_NODELAY} on their
 * connections. The JDK server writes a response's headers and its body as two segments; with
 * Nagle's algorithm on, the body then waits for the client's delayed ACK, adding about 40 ms to
 * every answer on a keep-alive connection (measured: 700 webhooks/s at p50 44 ms without it,
 * several thousand at p50 under 10 ms with it). The switch is the JDK's own system property,
 * read once when the first server is created, so every server must be created here.
 */
public final class HttpServers {
    static final String NO_DELAY = "sun.net.httpserver.nodelay";
    /**
     * Seconds a connection may take to deliver its request (the JDK's own switch, unbounded by
     * default). The server reads requests, and HTTPS handshakes, on its handler threads before any
     * token is checked: without a bound, two idle connections hold a two-thread pool for ever, and
     * an exposed API stops answering its real callers.
     */
    static final String MAX_REQUEST_SECONDS = "sun.net.httpserver.maxReqTime";

    static final String DEFAULT_MAX_REQUEST_SECONDS = "30";

    static {
        if (System.getProperty(NO_DELAY) == null) {
            System.setProperty(NO_DELAY, "true");
        }
        if (System.getProperty(MAX_REQUEST_SECONDS) == null) {
            System.setProperty(MAX_REQUEST_SECONDS, DEFAULT_MAX_REQUEST_SECONDS);
        }
    }

    private HttpServers() {}

    /** A server bound to {@code port} on every interface ({@code 0}: any free port), not started. */
    public static HttpServer create(int port, int backlog) throws IOException {
        return HttpServer.create(new InetSocketAddress(port), backlog);
    }

    /**
     * A server bound to {@code port} on {@link HttpSettings#host()}, HTTPS when the settings have
     * TLS, not started. Bearer tokens are not checked here: {@link ApiServer} adds them.
     */
    public static HttpServer create(HttpSettings settings, int port, int backlog) throws IOException {
        InetSocketAddress address = new InetSocketAddress(settings.address(), port);
        if (settings.tls() == null) {
            return HttpServer.create(address, backlog);
        }
        HttpsServer server = HttpsServer.create(address, backlog);
        server.setHttpsConfigurator(new HttpsConfigurator(settings.tls().context()));
        return server;
    }
}
