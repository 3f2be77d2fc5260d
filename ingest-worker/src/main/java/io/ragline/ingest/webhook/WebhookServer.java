package io.ragline.ingest.webhook;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariDataSource;
import io.github.resilience4j.micrometer.tagged.TaggedRateLimiterMetrics;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import io.ragline.core.db.Migrations;
import io.ragline.core.http.HttpServers;
import io.ragline.core.http.HttpSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook HTTP server of the ingest-worker ({@code RAGLINE_HTTP_PORT}, docs/architecture.md
 * section 12): a JDK HTTP server on a bounded pool of {@code RAGLINE_WEBHOOK_THREADS} threads and its own
 * connection pool, so that webhooks neither starve nor are starved by the consumers, and a
 * database outage is answered with 503 within {@code RAGLINE_WEBHOOK_DB_TIMEOUT} (the pool's
 * connection timeout, and the bound of each insert). When the request queue is full, a request is
 * handed to a small overflow pool that only answers 503 with {@code Retry-After}, so the server's
 * dispatcher thread never runs a request and keeps accepting; when that is full too, the
 * connection is closed. Closing stops accepting, lets requests in flight finish (up to 2 s), then
 * closes the pool.
 */
public final class WebhookServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebhookServer.class);
    /** Requests waiting for a thread. */
    static final int QUEUE = 1024;
    /** Requests waiting for an overflow thread, which answers each with 503 at once. */
    private static final int OVERFLOW_THREADS = 2;

    private static final int OVERFLOW_QUEUE = 1024;

    private final HttpServer server;
    private final ThreadPoolExecutor executor;
    private final ThreadPoolExecutor overflow;
    private final HikariDataSource dataSource;

    private WebhookServer(
            HttpServer server, ThreadPoolExecutor executor, ThreadPoolExecutor overflow, HikariDataSource dataSource) {
        this.server = server;
        this.executor = executor;
        this.overflow = overflow;
        this.dataSource = dataSource;
    }

    /**
     * Reads the webhook settings now (their problems join the start-up report of
     * {@code WorkerMain.run}) and returns what starts the server once the runtime is up, registered
     * with {@link WorkerRuntime#manage} so that it closes on shutdown.
     */
    public static Consumer<WorkerRuntime> wiring(Env env, int defaultHttpPort, HttpSettings http) {
        WebhookSettings settings = WebhookSettings.from(env, defaultHttpPort);
        return runtime -> runtime.manage(start(runtime, settings, http));
    }

    /**
     * Opens {@code RAGLINE_HTTP_PORT}. Called after the runtime started, which reached Postgres and
     * migrated; with {@code RAGLINE_MIGRATE_ON_START=false} and migrations pending it refuses to
     * start rather than store webhooks that the V5 trigger would not publish.
     */
    public static WebhookServer start(WorkerRuntime runtime, WebhookSettings settings) {
        return start(runtime, settings, HttpSettings.plain(HttpSettings.DEFAULT_HOST), QUEUE);
    }

    /**
     * {@link #start(WorkerRuntime, WebhookSettings)} on {@code http}'s address, HTTPS when it has
     * TLS. Its bearer tokens do not apply: webhooks are signed by their senders.
     */
    public static WebhookServer start(WorkerRuntime runtime, WebhookSettings settings, HttpSettings http) {
        return start(runtime, settings, http, QUEUE);
    }

    /** {@link #start(WorkerRuntime, WebhookSettings)} with {@code queue} requests waiting at most. */
    static WebhookServer start(WorkerRuntime runtime, WebhookSettings settings, int queue) {
        return start(runtime, settings, HttpSettings.plain(HttpSettings.DEFAULT_HOST), queue);
    }

    private static WebhookServer start(WorkerRuntime runtime, WebhookSettings settings, HttpSettings http, int queue) {
        CoreSettings core = runtime.settings();
        Migrations migrations = new Migrations(core.database(), core.schema(), runtime.processName() + "-webhooks");
        boolean upToDate;
        try {
            upToDate = runtime.startupStep("checking the schema's migrations", migrations::upToDate);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the migrations of schema " + core.schema(), e);
        }
        if (!upToDate) {
            throw new IllegalStateException("schema " + core.schema() + " has pending migrations: run `ragline"
                    + " migrate` before serving webhooks");
        }
        // A sender should hear 503 before its own timeout (GitHub's is 10 s): the budget bounds the
        // wait for a connection, and the socket of a connection that went silent (the insert
        // itself gets what is left of the budget, see WebhookStore).
        HikariDataSource dataSource = Database.pool(
                core.database(),
                core.schema(),
                settings.poolSize(),
                runtime.processName() + "-webhooks",
                runtime.registry(),
                core.database().timeouts().within(settings.dbTimeout()));
        try {
            WebhookServer server =
                    start(settings, http, dataSource, new WebhookMetrics(runtime.registry()), runtime, queue);
            log.info(
                    "webhooks on {}://{}:{}: POST /webhooks/{source} for {}",
                    http.scheme(),
                    http.host(),
                    server.port(),
                    settings.sources().isEmpty()
                            ? "no source (set RAGLINE_WEBHOOK_<SOURCE>_SCHEME and _SECRET)"
                            : describe(settings));
            return server;
        } catch (RuntimeException e) {
            dataSource.close();
            throw e;
        }
    }

    private static WebhookServer start(
            WebhookSettings settings,
            HttpSettings http,
            HikariDataSource dataSource,
            WebhookMetrics metrics,
            WorkerRuntime runtime,
            int queue) {
        RateLimiterRegistry limiters = RateLimiterRegistry.ofDefaults();
        Map<String, WebhookReceiver.Endpoint> endpoints = new LinkedHashMap<>();
        for (WebhookSettings.Source s : settings.sources().values()) {
            RateLimiter limiter = s.rateLimit() <= 0
                    ? null
                    : limiters.rateLimiter(
                            "webhook-" + s.name(),
                            RateLimiterConfig.custom()
                                    .limitForPeriod(s.rateLimit())
                                    .limitRefreshPeriod(Duration.ofSeconds(1))
                                    .timeoutDuration(Duration.ZERO)
                                    .build());
            endpoints.put(
                    s.name(),
                    new WebhookReceiver.Endpoint(
                            s, WebhookVerifier.of(s.scheme(), s.secrets(), Clock.systemUTC()), limiter));
        }
        TaggedRateLimiterMetrics.ofRateLimiterRegistry(limiters).bindTo(runtime.registry());
        WebhookReceiver receiver = new WebhookReceiver(
                endpoints,
                settings.maxBodyBytes(),
                new WebhookStore(dataSource, settings.dbTimeout()),
                metrics,
                () -> Thread.currentThread() instanceof OverflowThread);

        // A request the busy threads cannot take goes to the overflow pool, which answers 503; one
        // that pool cannot take either is refused (the JDK server closes its connection). Never
        // CallerRunsPolicy: the caller is the server's only dispatcher thread, which would stop
        // accepting for as long as the request takes.
        AtomicInteger o = new AtomicInteger();
        ThreadPoolExecutor overflow = new ThreadPoolExecutor(
                OVERFLOW_THREADS,
                OVERFLOW_THREADS,
                0,
                TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(OVERFLOW_QUEUE),
                r -> new OverflowThread(r, "webhook-overflow-" + o.incrementAndGet()),
                new ThreadPoolExecutor.AbortPolicy());
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(
                settings.threads(),
                settings.threads(),
                0,
                TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queue),
                r -> {
                    Thread t = new Thread(r, "webhook-http-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                },
                (r, pool) -> overflow.execute(r));
        HttpServer server;
        try {
            server = HttpServers.create(http, settings.httpPort(), 256);
        } catch (IOException e) {
            executor.shutdown();
            overflow.shutdown();
            throw new UncheckedIOException(
                    "cannot serve webhooks on " + http.host() + ":" + settings.httpPort() + " ("
                            + WebhookSettings.HTTP_PORT + ")",
                    e);
        }
        server.setExecutor(executor);
        server.createContext(WebhookReceiver.PATH, receiver);
        server.createContext("/", receiver);
        server.start();
        return new WebhookServer(server, executor, overflow, dataSource);
    }

    /** A thread of the overflow pool: the receiver answers what runs on it with 503 at once. */
    private static final class OverflowThread extends Thread {
        OverflowThread(Runnable r, String name) {
            super(r, name);
            setDaemon(true);
        }
    }

    private static String describe(WebhookSettings settings) {
        StringBuilder sb = new StringBuilder();
        for (WebhookSettings.Source s : settings.sources().values()) {
            sb.append(sb.isEmpty() ? "" : ", ")
                    .append(s.name())
                    .append(" (")
                    .append(s.scheme().label())
                    .append(", ")
                    .append(s.secrets().size())
                    .append(s.secrets().size() == 1 ? " secret" : " secrets")
                    .append(s.rateLimit() > 0 ? ", " + s.rateLimit() + "/s" : "")
                    .append(s.priority() != 0 ? ", priority " + s.priority() : "")
                    .append(')');
        }
        return sb.toString();
    }

    /** The bound port (useful with {@code RAGLINE_HTTP_PORT=0}). */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(2);
        executor.shutdown();
        overflow.shutdown();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
            if (!overflow.awaitTermination(1, TimeUnit.SECONDS)) {
                overflow.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
            overflow.shutdownNow();
        }
        dataSource.close();
        log.info("webhook server stopped");
    }
}
