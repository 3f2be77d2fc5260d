package io.ragline.core;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.PollLoop;
import io.ragline.core.db.Database;
import io.ragline.core.db.Migrations;
import io.ragline.core.health.DependencyChecks;
import io.ragline.core.health.HealthCheck;
import io.ragline.core.health.Readiness;
import io.ragline.core.http.AdminServer;
import io.ragline.core.kafka.MeteredKafkaClients;
import io.ragline.core.kafka.TopicAdmin;
import io.ragline.core.lifecycle.Lifecycle;
import io.ragline.core.lifecycle.Supervisor;
import io.ragline.core.metrics.ProcessMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime every process shares: validated settings, the metrics registry, the connection
 * pool, migrations, the admin server with health and metrics, the Kafka clients, and the
 * supervisor of its long-lived threads. Its {@link Lifecycle} moves CREATED, STARTING (admin
 * server up, the worker starting its consumers), RUNNING ({@link #markStarted()}), then STOPPING
 * and STOPPED, through FAILED after a fatal failure (exit status 1). Closing releases each part
 * within the shutdown bound, in reverse order of creation.
 */
public final class WorkerRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);

    private final String processName;
    private final CoreSettings settings;
    private final Lifecycle lifecycle = new Lifecycle();
    private final Supervisor supervisor = new Supervisor(this::fail);
    private final ProcessMetrics metrics;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final HikariDataSource dataSource;
    private final Readiness readiness;
    private final AdminServer admin;
    private final MeteredKafkaClients kafka;
    private final BindingLoops bindings;

    private WorkerRuntime(String processName, CoreSettings settings) throws IOException, SQLException {
        this.processName = processName;
        this.settings = settings;
        this.metrics = new ProcessMetrics(processName);
        try {
            this.dataSource = manage(Database.pool(
                    settings.database(), settings.schema(), settings.poolSize(), processName, registry()));
            Migrations migrations = new Migrations(settings.database(), settings.schema(), processName + "-migrate");
            if (settings.migrateOnStart()) {
                migrations.migrate();
            }
            this.readiness = new Readiness(
                    new DependencyChecks(settings, processName, migrations, settings.migrateOnStart()).checks());
            readiness.add(HealthCheck.of("threads", supervisor::problem));
            readiness.add(HealthCheck.of("started", lifecycle::problem));
            this.admin = manage(new AdminServer(settings.adminPort(), readiness, registry()));
            this.kafka = manage(new MeteredKafkaClients(
                    settings.kafkaBootstrapServers(),
                    settings.kafka(),
                    processName,
                    registry(),
                    settings.shutdownTimeout().dividedBy(2)));
        } catch (IOException | SQLException | RuntimeException e) {
            closeAll();
            throw e;
        }
        this.bindings = new BindingLoops(this, registry());
        admin.start();
        lifecycle.moveTo(Lifecycle.State.STARTING);
    }

    /**
     * Validates configuration (all problems at once), reaches Postgres and Kafka, migrates when
     * {@code RAGLINE_MIGRATE_ON_START} is true, and serves the admin endpoints.
     */
    public static WorkerRuntime start(String processName, int defaultAdminPort, Env env) {
        CoreSettings settings = StartupCheck.run(env, processName, defaultAdminPort);
        log.info("{} starting with {}", processName, settings);
        try {
            return new WorkerRuntime(processName, settings);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot serve the admin port " + settings.adminPort() + " (" + CoreSettings.ADMIN_PORT + ")", e);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot migrate schema " + settings.schema() + ": " + e.getMessage(), e);
        }
    }

    public String processName() {
        return processName;
    }

    public CoreSettings settings() {
        return settings;
    }

    public PrometheusMeterRegistry registry() {
        return metrics.registry();
    }

    public HikariDataSource dataSource() {
        return dataSource;
    }

    /** Where the process is in its lifecycle. */
    public Lifecycle.State state() {
        return lifecycle.state();
    }

    /**
     * Adds a readiness check of the worker's own: {@code /health/ready} answers 503 naming it
     * while it reports a problem (for example an embedding model still loading).
     */
    public void addReadinessCheck(HealthCheck check) {
        readiness.add(check);
    }

    public int adminPort() {
        return admin.port();
    }

    /** The process's producer (idempotent, acks=all), created on first use and closed on shutdown. */
    public Producer<byte[], byte[]> producer() {
        return kafka.producer();
    }

    /** The one way to build this process's Kafka clients, with their meters. */
    public MeteredKafkaClients kafkaClients() {
        return kafka;
    }

    /**
     * Starts {@code RAGLINE_CONSUMER_THREADS} supervised poll loops for {@code binding}, each with
     * its own consumer and thread, writing through a batch sink behind a circuit breaker. The
     * topics are created when missing, and their dead-letter topics beside them.
     */
    public <T> void consume(ConsumerBinding<T> binding) {
        bindings.start(binding);
    }

    /**
     * Creates {@code topics} when missing (as {@link #consume} does), and their dead-letter topics
     * beside them: for a worker that runs its own poll loop.
     */
    public void ensureTopics(List<String> topics) {
        new TopicAdmin(settings.kafkaBootstrapServers()).ensure(topics);
    }

    /**
     * Runs {@code loop} as a supervised thread named {@code name} ({@link #supervise}). The loop's
     * own fatal path should be {@link #fatalPathOf fatalPathOf(name)}.
     */
    public Thread startLoop(String name, PollLoop loop) {
        return supervise(name, loop, loop::stop);
    }

    /**
     * Runs {@code body} on a supervised thread named {@code name}, asked to stop on shutdown by
     * {@code stop} (which must not block), waited for at most {@code RAGLINE_SHUTDOWN_TIMEOUT}. If
     * the thread ends while not asked to stop (any Throwable, or {@code body} returning), it is
     * logged once at ERROR, {@code /health/ready} answers 503 naming it ({@code "threads"}), and
     * the process stops with exit status 1.
     */
    public Thread supervise(String name, Runnable body, Runnable stop) {
        Supervisor.Supervised supervised = supervisor.start(name, body, stop);
        manage(() -> {
            if (!supervised.stop(settings.shutdownTimeout())) {
                log.warn("{} still running {} after it was asked to stop", name, settings.shutdownTimeout());
            }
        });
        return supervised.thread();
    }

    /**
     * The fatal path to hand a supervised task that logs its own failure before it ends (a poll
     * loop's {@code onFatal}): readiness names the thread and the process stops, exit status 1.
     */
    public Consumer<Throwable> fatalPathOf(String threadName) {
        return cause -> supervisor.died(threadName, cause);
    }

    /**
     * The process's own consumers and servers are running: readiness holds from now on (while
     * Postgres, Kafka and the threads are well). Until then {@code /health/ready} answers 503. Does
     * nothing once closing has begun.
     */
    public void markStarted() {
        lifecycle.started();
    }

    /** True once closing has begun (a signal, a fatal failure, or {@link #close()}). */
    public boolean isClosed() {
        return lifecycle.state().closing();
    }

    /** Exit status for the process: 0, or 1 after a fatal failure. */
    public int exitCode() {
        return lifecycle.exitCode();
    }

    /** A fatal failure: log once (the caller did), stop everything, exit 1. */
    public void fail(Throwable cause) {
        if (lifecycle.fail(cause)) {
            new Thread(this::close, processName + "-fatal-stop").start();
        }
    }

    /** Registers something to close on shutdown, before what was created earlier. */
    public <T extends AutoCloseable> T manage(T closeable) {
        synchronized (closeables) {
            closeables.add(closeable);
        }
        return closeable;
    }

    /** Blocks until {@link #close()} has run (on SIGTERM through the signal handler). */
    public void awaitShutdown() throws InterruptedException {
        stopped.await();
    }

    /**
     * Closes on SIGTERM / SIGINT, so that {@link #awaitShutdown()} returns and the process exits 0.
     * If closing takes longer than {@code RAGLINE_SHUTDOWN_TIMEOUT}, the process halts with 1.
     */
    public WorkerRuntime closeOnSignal() {
        Signals.closeOnTermination(processName, settings.shutdownTimeout(), this::close);
        return this;
    }

    @Override
    public void close() {
        if (!lifecycle.stopping()) {
            return;
        }
        log.info("{} shutting down", processName);
        closeAll();
        lifecycle.stopped();
        log.info("{} stopped", processName);
        stopped.countDown();
    }

    private void closeAll() {
        List<AutoCloseable> toClose;
        synchronized (closeables) {
            toClose = new ArrayList<>(closeables);
        }
        boolean interrupted = false;
        for (int i = toClose.size() - 1; i >= 0; i--) {
            AutoCloseable c = toClose.get(i);
            try {
                c.close();
            } catch (Exception e) {
                // Interrupted: close the rest anyway (each part bounds its own wait), then restore.
                interrupted |= e instanceof InterruptedException;
                log.warn("closing {} failed: {}", c.getClass().getSimpleName(), e.toString());
            }
        }
        metrics.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
