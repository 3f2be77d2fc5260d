package io.ragline.core;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import io.ragline.core.db.Migrations;
import io.ragline.core.health.HealthCheck;
import io.ragline.core.health.Readiness;
import io.ragline.core.http.AdminServer;
import io.ragline.core.kafka.KafkaConnectivity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime every process shares: validated settings, the metrics registry, the connection
 * pool, migrations, and the admin server with health and metrics. Closing it releases each part
 * within the shutdown bound, in reverse order of creation.
 */
public final class WorkerRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);

    private final String processName;
    private final CoreSettings settings;
    private final PrometheusMeterRegistry registry;
    private final HikariDataSource dataSource;
    private final AdminServer admin;
    private final Migrations migrations;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean migrationsApplied;

    private WorkerRuntime(String processName, CoreSettings settings) throws IOException, SQLException {
        this.processName = processName;
        this.settings = settings;
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("process", processName);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        closeables.add(gc);

        this.dataSource =
                Database.pool(settings.database(), settings.schema(), settings.poolSize(), processName, registry);
        closeables.add(dataSource);
        this.migrations = new Migrations(dataSource, settings.schema());
        if (settings.migrateOnStart()) {
            migrations.migrate();
            migrationsApplied = true;
        }
        Readiness readiness = new Readiness(List.of(
                HealthCheck.of("postgres", this::postgresProblem),
                HealthCheck.of(
                        "kafka",
                        () -> KafkaConnectivity.check(settings.kafkaBootstrapServers(), Duration.ofSeconds(2))),
                HealthCheck.of("migrations", this::migrationsProblem)));
        this.admin = new AdminServer(settings.adminPort(), readiness, registry);
        closeables.add(admin);
        admin.start();
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
        return registry;
    }

    public HikariDataSource dataSource() {
        return dataSource;
    }

    public int adminPort() {
        return admin.port();
    }

    /** Registers something to close on shutdown, before what was created earlier. */
    public <T extends AutoCloseable> T manage(T closeable) {
        closeables.add(closeable);
        return closeable;
    }

    /** Blocks until {@link #close()} has run (on SIGTERM through the shutdown hook). */
    public void awaitShutdown() throws InterruptedException {
        stopped.await();
    }

    /**
     * Closes on SIGTERM / SIGINT, so that {@link #awaitShutdown()} returns and the process exits 0.
     * If closing takes longer than {@code RAGLINE_SHUTDOWN_TIMEOUT}, the process halts with 1.
     */
    public WorkerRuntime closeOnSignal() {
        Runnable stop = () -> {
            Thread watchdog = new Thread(
                    () -> {
                        try {
                            Thread.sleep(settings.shutdownTimeout().toMillis());
                            log.error("{} did not stop within {}; halting", processName, settings.shutdownTimeout());
                            Runtime.getRuntime().halt(1);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    },
                    processName + "-shutdown-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
            close();
            watchdog.interrupt();
        };
        if (!Signals.onTermination(processName, stop)) {
            Runtime.getRuntime().addShutdownHook(new Thread(this::close, processName + "-shutdown"));
        }
        return this;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        log.info("{} shutting down", processName);
        for (int i = closeables.size() - 1; i >= 0; i--) {
            AutoCloseable c = closeables.get(i);
            try {
                c.close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", c.getClass().getSimpleName(), e.toString());
            }
        }
        registry.close();
        log.info("{} stopped", processName);
        stopped.countDown();
    }

    private Optional<String> postgresProblem() {
        try (Connection c = dataSource.getConnection()) {
            return c.isValid(2) ? Optional.empty() : Optional.of("connection is not valid");
        } catch (SQLException e) {
            return Optional.of(e.getMessage());
        }
    }

    private Optional<String> migrationsProblem() {
        if (migrationsApplied) {
            return Optional.empty();
        }
        try {
            if (migrations.upToDate()) {
                migrationsApplied = true;
                return Optional.empty();
            }
            return Optional.of("schema " + settings.schema() + " has pending migrations: run `ragline migrate`");
        } catch (RuntimeException e) {
            return Optional.of(e.getMessage());
        }
    }
}
