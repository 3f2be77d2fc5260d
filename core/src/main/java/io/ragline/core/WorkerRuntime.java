package io.ragline.core;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.ragline.core.config.ConfigException;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.PollLoop;
import io.ragline.core.db.ConnectionProperties;
import io.ragline.core.db.ConnectionProperties.Use;
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
import io.ragline.core.lifecycle.Watchdog;
import io.ragline.core.metrics.ProcessMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
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
 * and STOPPED, through FAILED after a fatal failure (exit status 1).
 *
 * <p>Closing shares {@code RAGLINE_SHUTDOWN_TIMEOUT} out: every supervised thread is asked to stop
 * at once and all are waited for against one deadline (half the bound), the producer then gets a
 * quarter, and the rest of the parts (pool, admin server) close in reverse order of creation in what
 * is left. Once the runtime owns the process ({@link #closeOnSignal()}), a watchdog armed at the
 * first move to stopping, whatever caused it, halts the process with 1 past the whole bound.
 */
public final class WorkerRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);
    /** Supervised threads are waited for until 1/2 of the shutdown bound. */
    private static final int THREADS_SHARE = 2;
    /** The producer's close gets 1/4 of the shutdown bound, leaving 1/4 for the pool and the rest. */
    private static final int PRODUCER_SHARE = 4;

    private final String processName;
    private final CoreSettings settings;
    private final Lifecycle lifecycle = new Lifecycle();
    private final Supervisor supervisor = new Supervisor(this::fail);
    private final ProcessMetrics metrics;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    /** Set, under the closeables' lock, once closing took its list: later parts close at once. */
    private boolean closing;
    /** Set by {@link #closeOnSignal()}: closing is then bounded by halting the process. */
    private volatile boolean ownsProcess;

    private final CountDownLatch stopped = new CountDownLatch(1);
    private final HikariDataSource dataSource;
    private HikariDataSource longStatements;
    private final Readiness readiness;
    private final AdminServer admin;
    private final MeteredKafkaClients kafka;
    private final BindingLoops bindings;
    private final StartupWait startupWait;

    /**
     * @param wait the start-up check's wait, whose deadline the steps on Postgres here share: the
     *     database may go away again just after the check
     */
    private WorkerRuntime(String processName, CoreSettings settings, StartupWait wait)
            throws IOException, SQLException {
        this.processName = processName;
        this.settings = settings;
        this.metrics = new ProcessMetrics(processName);
        this.startupWait = wait;
        try {
            this.dataSource = manage(Database.pool(
                    settings.database(), settings.schema(), settings.poolSize(), processName, registry()));
            Migrations migrations = new Migrations(settings.database(), settings.schema(), processName + "-migrate");
            if (settings.migrateOnStart()) {
                wait.postgres(settings.database(), "migrating schema " + settings.schema(), migrations::migrate);
            } else {
                WorkerAccess.require(settings, processName, migrations, wait);
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
                    settings.shutdownTimeout().dividedBy(PRODUCER_SHARE)));
            this.bindings = new BindingLoops(this, registry());
            admin.start();
            lifecycle.moveTo(Lifecycle.State.STARTING);
        } catch (Throwable e) { // an Error included: what was opened is closed before it propagates
            closeAll();
            throw e;
        }
    }

    /**
     * Validates configuration (all problems at once), reaches Postgres and Kafka (waiting up to
     * {@code RAGLINE_STARTUP_WAIT} for one that a retry can bring back: {@link StartupWait}), migrates
     * when {@code RAGLINE_MIGRATE_ON_START} is true (else checks the login's privileges), within the
     * same wait, and serves the admin endpoints.
     */
    public static WorkerRuntime start(String processName, int defaultAdminPort, Env env) {
        Instant began = Instant.now();
        CoreSettings settings = StartupCheck.run(env, processName, defaultAdminPort);
        log.info("{} starting with {}", processName, settings);
        // What applies: the URL's own parameters (connect_timeout, socketTimeout) over the variables.
        log.info("{} database timeouts in force: {}", processName, ConnectionProperties.effective(settings.database()));
        try {
            return new WorkerRuntime(
                    processName, settings, StartupWait.since(began, settings.startupWait(), processName));
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot serve the admin port " + settings.adminPort() + " (" + CoreSettings.ADMIN_PORT + ")", e);
        } catch (SQLException e) {
            if (Migrations.INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) { // the wrong user: exit 2
                throw new ConfigException(List.of(CoreSettings.MIGRATE_ON_START + "=true: " + e.getMessage()));
            }
            throw new IllegalStateException("cannot migrate schema " + settings.schema() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs a start-up step of a worker's own on Postgres (after this runtime started, before the
     * worker is ready) within the start-up wait's deadline, as the migration: an outage that began
     * during start-up is waited out rather than failing the start ({@link StartupWait#postgres}).
     * Once SIGTERM closed the runtime, the next attempt gives up instead (a rollout must not wait
     * the outage out).
     */
    public <T> T startupStep(String step, StartupWait.SqlStep<T> body) throws SQLException {
        return startupWait.postgres(settings.database(), step, () -> {
            if (isClosed()) {
                throw new SQLException(processName + " is stopping: " + step + " given up");
            }
            return body.run();
        });
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

    /**
     * A small pool, opened on first use, whose connections are for statements that legitimately run
     * long ({@link Use#LONG_STATEMENTS}: no pipeline socket timeout), such as the console's reindex.
     */
    public synchronized HikariDataSource longStatements() {
        if (longStatements == null) {
            longStatements = manage(Database.pool(
                    settings.database(), settings.schema(), 2, processName + "-long", registry(), Use.LONG_STATEMENTS));
        }
        return longStatements;
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
        new TopicAdmin(
                        settings.kafkaBootstrapServers(),
                        settings.kafka().clientProperties(),
                        settings.kafka().replicationFactor())
                .ensure(topics);
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
     * {@code stop} (which must not block); on shutdown every supervised thread is asked at once and
     * all are waited for against one deadline. If the thread ends while not asked to stop (any
     * Throwable, or {@code body} returning), it is logged once at ERROR, {@code /health/ready}
     * answers 503 naming it ({@code "threads"}), and the process stops with exit status 1.
     *
     * @throws Supervisor.StoppingException once closing has begun: the thread is not started
     */
    public Thread supervise(String name, Runnable body, Runnable stop) {
        if (isClosed()) {
            throw new Supervisor.StoppingException(name);
        }
        return supervisor.start(name, body, stop).thread();
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
     * Postgres, Kafka and the threads are well). Until then {@code /health/ready} answers 503.
     * False (nothing moves) when closing began while the worker was starting.
     */
    public boolean markStarted() {
        return lifecycle.started();
    }

    /** True once closing has begun (a signal, a fatal failure, or {@link #close()}). */
    public boolean isClosed() {
        return lifecycle.state().closing();
    }

    /** Exit status for the process: 0, 1 after a fatal failure, 2 when it was a configuration problem. */
    public int exitCode() {
        return lifecycle.exitCode();
    }

    /** A fatal failure: log once (the caller did), stop everything, exit 1. */
    public void fail(Throwable cause) {
        if (lifecycle.fail(cause)) {
            new Thread(this::close, processName + "-fatal-stop").start();
        }
    }

    /**
     * Registers something to close on shutdown, before what was created earlier. Once closing has
     * taken its list, {@code closeable} is closed at once instead.
     */
    public <T extends AutoCloseable> T manage(T closeable) {
        synchronized (closeables) {
            if (!closing) {
                closeables.add(closeable);
                return closeable;
            }
        }
        if (closeQuietly(closeable)) {
            Thread.currentThread().interrupt();
        }
        return closeable;
    }

    /** Blocks until {@link #close()} has run (on SIGTERM through the signal handler). */
    public void awaitShutdown() throws InterruptedException {
        stopped.await();
    }

    /**
     * Takes the process: closes on SIGTERM / SIGINT, so that {@link #awaitShutdown()} returns and
     * the process exits 0, and bounds every close (a signal's, a fatal failure's): if closing takes
     * longer than {@code RAGLINE_SHUTDOWN_TIMEOUT}, the process halts with 1.
     */
    public WorkerRuntime closeOnSignal() {
        ownsProcess = true;
        Signals.closeOnTermination(processName, this::close);
        return this;
    }

    /**
     * Closes every part (idempotent: a second call returns at once, while the first one's bound
     * still holds).
     */
    @Override
    public void close() {
        if (!lifecycle.stopping()) {
            return;
        }
        Watchdog watchdog = ownsProcess
                ? Watchdog.arm(
                        processName,
                        settings.shutdownTimeout(),
                        () -> Runtime.getRuntime().halt(1))
                : null;
        log.info("{} shutting down", processName);
        closeAll();
        lifecycle.stopped();
        log.info("{} stopped", processName);
        if (watchdog != null) {
            watchdog.close();
        }
        stopped.countDown();
    }

    private void closeAll() {
        boolean interrupted = stopThreads();
        List<AutoCloseable> toClose;
        synchronized (closeables) {
            closing = true;
            toClose = new ArrayList<>(closeables);
        }
        for (int i = toClose.size() - 1; i >= 0; i--) {
            // Interrupted: close the rest anyway (each part bounds its own wait), then restore.
            interrupted |= closeQuietly(toClose.get(i));
        }
        metrics.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Asks every supervised thread to stop, then waits for all against one deadline; true if interrupted. */
    private boolean stopThreads() {
        Duration budget = settings.shutdownTimeout().dividedBy(THREADS_SHARE);
        try {
            List<String> running = supervisor.stopAll(Instant.now().plus(budget));
            if (!running.isEmpty()) {
                log.warn("{} still running {} after they were asked to stop", running, budget);
            }
            return false;
        } catch (InterruptedException e) {
            return true;
        }
    }

    /** Closes {@code c}, logging a failure; true when interrupted. */
    private static boolean closeQuietly(AutoCloseable c) {
        try {
            c.close();
            return false;
        } catch (Exception e) {
            log.warn("closing {} failed: {}", c.getClass().getSimpleName(), e.toString());
            return e instanceof InterruptedException;
        }
    }
}
