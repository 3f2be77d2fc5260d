package io.ragline.core.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.ragline.core.config.ConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP(S) server of a process's API ({@code POST /search}; any later API endpoint): every
 * {@link #route} it serves, and every path it does not (404), passes {@link BearerAuthentication}
 * first, so an endpoint cannot be added without it. It refuses to exist where {@link
 * HttpSettings#anonymousApi} finds a problem, so that no wiring that skipped {@link
 * HttpSettings#forApi} serves an API to anyone. Webhooks (signed by their senders) and the admin
 * port are not API servers.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

    private final String name;
    private final HttpSettings settings;
    private final HttpServer server;
    private final BearerAuthentication authentication;
    private final List<String> paths = new ArrayList<>();

    /**
     * @param name what the API is, for messages ({@code POST /search})
     * @param portVariable the variable of {@code port}, named when it cannot be opened
     */
    public ApiServer(
            String name, HttpSettings settings, int port, String portVariable, int backlog, Executor executor) {
        settings.anonymousApi(name).ifPresent(problem -> {
            throw new ConfigException(List.of(problem));
        });
        this.name = name;
        this.settings = settings;
        this.authentication = new BearerAuthentication(settings.tokens());
        try {
            this.server = HttpServers.create(settings, port, backlog);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot serve " + name + " on " + settings.host() + ":" + port + " (" + portVariable + ")", e);
        }
        server.setExecutor(executor);
        server.createContext("/", ex -> {
                    try (ex) {
                        JsonAnswers.error(
                                ex,
                                404,
                                "no such endpoint: " + ex.getRequestURI().getPath());
                    }
                })
                .getFilters()
                .add(authentication);
    }

    /** Serves {@code path} (and below it) with {@code handler}, behind the bearer token check. */
    public ApiServer route(String path, HttpHandler handler) {
        server.createContext(path, handler).getFilters().add(authentication);
        paths.add(path);
        return this;
    }

    /**
     * Serves {@code path} (and below it) with {@code handler} to anyone, without a token: only for
     * files that hold no data (the web console's pages and scripts, Swagger UI, the OpenAPI
     * document), whose every datum is then fetched from routes behind the token check.
     */
    public ApiServer publicRoute(String path, HttpHandler handler) {
        if (path.equals("/")) {
            server.removeContext("/"); // the catch-all 404 gives way to the public files
        }
        server.createContext(path, handler);
        paths.add(path + " (public)");
        return this;
    }

    /** Who sent {@code ex}, as the token check found it; only inside a {@link #route}'s handler. */
    public static Caller caller(HttpExchange ex) {
        Object caller = ex.getAttribute(BearerAuthentication.CALLER);
        if (!(caller instanceof Caller c)) {
            throw new IllegalStateException("no caller: " + ex.getRequestURI().getPath() + " is not an API route");
        }
        return c;
    }

    public void start() {
        server.start();
        log.info(
                "{} on {}://{}:{}{} ({})",
                name,
                settings.scheme(),
                settings.host(),
                port(),
                String.join(" ", paths),
                settings.tokens().isEmpty()
                        ? "anonymous: no " + HttpSettings.API_TOKENS
                        : "bearer tokens: " + settings.tokens());
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Stops accepting, then waits up to {@code seconds} for exchanges in flight. */
    public void stop(int seconds) {
        server.stop(seconds);
    }

    @Override
    public void close() {
        stop(1);
    }
}
