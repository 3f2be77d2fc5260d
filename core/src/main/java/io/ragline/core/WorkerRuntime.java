package io.ragline.core;

import com.zaxxer.hikari.HikariDataSource;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.ConsumerLoop;
import io.ragline.core.consumer.ConsumerMetrics;
import io.ragline.core.consumer.DeadLetters;
import io.ragline.core.consumer.FailureKind;
import io.ragline.core.consumer.FailurePolicy;
import io.ragline.core.consumer.KafkaDeadLetters;
import io.ragline.core.consumer.PollLoop;
import io.ragline.core.consumer.PostgresBatchSink;
import io.ragline.core.db.Database;
import io.ragline.core.db.Migrations;
import io.ragline.core.health.HealthCheck;
import io.ragline.core.health.Readiness;
import io.ragline.core.http.AdminServer;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.kafka.KafkaConnectivity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
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
    private final Readiness readiness;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean migrationsApplied;
    /** Set by {@link #markStarted()} once the process's consumers and servers run. */
    private volatile boolean started;

    private final CircuitBreakerRegistry breakers = CircuitBreakerRegistry.ofDefaults();
    private final List<Watched> loops = new CopyOnWriteArrayList<>();

    /** A loop readiness watches: it must still run, and so must its thread. */
    private record Watched(String name, PollLoop loop, Thread thread) {}

    private KafkaProducer<byte[], byte[]> producer;
    /** Refreshes the Kafka client meters (lag per partition appears once partitions are assigned). */
    private final java.util.concurrent.ScheduledExecutorService kafkaMetricsRefresh =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "kafka-metrics-refresh");
                t.setDaemon(true);
                return t;
            });

    private static final Duration KAFKA_METRICS_REFRESH = Duration.ofSeconds(10);
    private volatile int exitCode;

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
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        closeables.add(gc);
        closeables.add(kafkaMetricsRefresh::shutdownNow);

        this.dataSource =
                Database.pool(settings.database(), settings.schema(), settings.poolSize(), processName, registry);
        closeables.add(dataSource);
        this.migrations = new Migrations(settings.database(), settings.schema(), processName + "-migrate");
        try {
            if (settings.migrateOnStart()) {
                migrations.migrate();
                migrationsApplied = true;
            }
        } catch (SQLException | RuntimeException e) {
            dataSource.close();
            throw e;
        }
        this.readiness = new Readiness(List.of(
                HealthCheck.of("postgres", this::postgresProblem),
                HealthCheck.of(
                        "kafka",
                        () -> KafkaConnectivity.check(settings.kafkaBootstrapServers(), Duration.ofSeconds(2))),
                HealthCheck.of("migrations", this::migrationsProblem),
                HealthCheck.of("consumers", this::consumersProblem),
                HealthCheck.of("started", this::startedProblem)));
        try {
            this.admin = new AdminServer(settings.adminPort(), readiness, registry);
        } catch (IOException e) {
            dataSource.close();
            throw e;
        }
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
        } catch (IOException | SQLException | RuntimeException e) {
            throw startFailure(settings, e);
        }
    }

    private static RuntimeException startFailure(CoreSettings settings, Exception e) {
        if (e instanceof IOException) {
            return new UncheckedIOException(
                    "cannot serve the admin port " + settings.adminPort() + " (" + CoreSettings.ADMIN_PORT + ")",
                    (IOException) e);
        }
        if (e instanceof SQLException) {
            return new IllegalStateException("cannot migrate schema " + settings.schema() + ": " + e.getMessage(), e);
        }
        return (RuntimeException) e;
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
    public synchronized Producer<byte[], byte[]> producer() {
        if (producer == null) {
            producer = KafkaClients.producer(settings.kafkaBootstrapServers(), settings.kafka(), processName);
            KafkaClientMetrics metrics = new KafkaClientMetrics(
                    producer, io.micrometer.core.instrument.Tags.empty(), kafkaMetricsRefresh, KAFKA_METRICS_REFRESH);
            metrics.bindTo(registry);
            KafkaProducer<byte[], byte[]> p = producer;
            manage(() -> p.close(settings.shutdownTimeout().dividedBy(2)));
            manage(metrics);
        }
        return producer;
    }

    /**
     * Starts {@code RAGLINE_CONSUMER_THREADS} poll loops for {@code binding}, each with its own
     * consumer and thread, writing through a {@link PostgresBatchSink} behind a circuit breaker.
     * Dead-letter topics are created beside existing source topics with the same partitions.
     */
    public <T> void consume(ConsumerBinding<T> binding) {
        String group = settings.kafka().groupPrefix() + "-" + binding.name();
        ensureDeadLetterTopics(binding.topics());
        CircuitBreaker breaker = breakers.circuitBreaker("postgres-" + binding.name(), breakerConfig(binding.policy()));
        breaker.getEventPublisher()
                .onStateTransition(
                        e -> log.info("circuit breaker {} {}", e.getCircuitBreakerName(), e.getStateTransition()));
        DeadLetters deadLetters = new KafkaDeadLetters(producer(), group, Duration.ofSeconds(30));
        ConsumerLoop.Settings loopSettings = ConsumerLoop.Settings.of(
                settings.kafka().backoffInitial(),
                settings.kafka().backoffMax(),
                settings.kafka().maxAttempts());
        int maxPollRecords = binding.maxPollRecords() > 0
                ? binding.maxPollRecords()
                : settings.kafka().maxPollRecords();
        for (int i = 0; i < settings.kafka().consumerThreads(); i++) {
            String clientId = processName + "-" + binding.name() + "-" + i;
            KafkaConsumer<byte[], byte[]> consumer = KafkaClients.consumer(
                    settings.kafkaBootstrapServers(), settings.kafka(), group, clientId, maxPollRecords);
            KafkaClientMetrics clientMetrics = new KafkaClientMetrics(
                    consumer, io.micrometer.core.instrument.Tags.empty(), kafkaMetricsRefresh, KAFKA_METRICS_REFRESH);
            clientMetrics.bindTo(registry);
            manage(clientMetrics);
            ConsumerLoop<T> loop = new ConsumerLoop<>(
                    consumer,
                    binding.topics(),
                    binding.decoder(),
                    new PostgresBatchSink<>(dataSource, group, binding.writer(), breaker),
                    deadLetters,
                    binding.policy(),
                    loopSettings,
                    Clock.systemUTC(),
                    new ConsumerMetrics(registry, clientId),
                    this::fail);
            startLoop(clientId, loop);
        }
        log.info(
                "consuming {} as group {} with {} thread(s), batches of at most {} records",
                binding.topics(),
                group,
                settings.kafka().consumerThreads(),
                maxPollRecords);
    }

    /**
     * Runs {@code loop} on a thread named {@code name}, stops it on shutdown (waiting at most {@code
     * RAGLINE_SHUTDOWN_TIMEOUT}) and watches it: {@code /health/ready} answers 503 naming the loop
     * once it has stopped or its thread has ended, unless the process is shutting down.
     */
    public Thread startLoop(String name, PollLoop loop) {
        Thread thread = new Thread(loop, name);
        loops.add(new Watched(name, loop, thread));
        manage(() -> {
            loop.stop();
            thread.join(settings.shutdownTimeout().toMillis());
        });
        thread.start();
        return thread;
    }

    /**
     * The process's own consumers and servers are running: readiness holds from now on (while
     * Postgres, Kafka and the consumers are well). Until then {@code /health/ready} answers 503.
     */
    public void markStarted() {
        started = true;
    }

    /** True once closing has begun (a signal, a fatal failure, or {@link #close()}). */
    public boolean isClosed() {
        return closed.get();
    }

    /** Exit status for the process: 0, or 1 after a fatal failure. */
    public int exitCode() {
        return exitCode;
    }

    /** A fatal failure: log once (the caller did), stop everything, exit 1. */
    public void fail(Throwable cause) {
        exitCode = 1;
        Thread t = new Thread(this::close, processName + "-fatal-stop");
        t.start();
    }

    private CircuitBreakerConfig breakerConfig(FailurePolicy policy) {
        return CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(10)
                .minimumNumberOfCalls(5)
                .failureRateThreshold(50)
                .waitDurationInOpenState(settings.kafka().breakerOpenFor())
                .permittedNumberOfCallsInHalfOpenState(1)
                // Only an unavailable database counts against it, never a bad record.
                .recordException(t -> policy.classify(t) == FailureKind.TRANSIENT)
                .build();
    }

    /**
     * Creates {@code topics} when missing (as {@link #consume} does), and their dead-letter topics
     * beside them: for a worker that runs its own poll loop.
     */
    public void ensureTopics(List<String> topics) {
        ensureDeadLetterTopics(topics);
    }

    private void ensureDeadLetterTopics(List<String> topics) {
        try (Admin admin = Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.kafkaBootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000))) {
            createMissing(admin, topics);
            Map<String, TopicDescription> sources =
                    admin.describeTopics(topics).allTopicNames().get(15, TimeUnit.SECONDS);
            List<NewTopic> dlqs = new ArrayList<>();
            for (TopicDescription d : sources.values()) {
                dlqs.add(new NewTopic(
                        DeadLetters.topicOf(d.name()),
                        Optional.of(d.partitions().size()),
                        Optional.empty()));
            }
            admin.createTopics(dlqs).values().forEach((name, f) -> {
                try {
                    f.get(15, TimeUnit.SECONDS);
                    log.info("created dead-letter topic {}", name);
                } catch (Exception e) {
                    if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                        log.warn("cannot create dead-letter topic {}: {}", name, e.toString());
                    }
                }
            });
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn(
                    "dead-letter topics of {} not checked ({}); the broker may create them on first use",
                    topics,
                    e.toString());
        }
    }

    /**
     * Creates the source topics that do not exist yet, with {@value #DEFAULT_TOPIC_PARTITIONS}
     * partitions and the broker's default replication, so a fresh cluster works out of the box.
     * Operators who want other settings create the topics first.
     */
    private static void createMissing(Admin admin, List<String> topics) throws Exception {
        java.util.Set<String> existing = admin.listTopics().names().get(15, TimeUnit.SECONDS);
        List<NewTopic> missing = topics.stream()
                .filter(t -> !existing.contains(t))
                .map(t -> new NewTopic(t, Optional.of(DEFAULT_TOPIC_PARTITIONS), Optional.empty()))
                .toList();
        admin.createTopics(missing).values().forEach((name, f) -> {
            try {
                f.get(15, TimeUnit.SECONDS);
                log.info("created topic {} with {} partitions", name, DEFAULT_TOPIC_PARTITIONS);
            } catch (Exception e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                    log.warn("cannot create topic {}: {}", name, e.toString());
                }
            }
        });
    }

    /** Partitions of a source topic a worker creates because it did not exist. */
    public static final int DEFAULT_TOPIC_PARTITIONS = 6;

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

    /** A fresh connection with a 2 s bound: a pool would make the probe wait its full timeout. */
    private Optional<String> postgresProblem() {
        try (Connection c = Database.connect(
                settings.database(), settings.schema(), processName + "-health", Duration.ofSeconds(2))) {
            return c.isValid(2) ? Optional.empty() : Optional.of("connection is not valid");
        } catch (SQLException e) {
            return Optional.of(e.getMessage());
        }
    }

    private Optional<String> startedProblem() {
        if (closed.get()) {
            return Optional.of("stopping");
        }
        return started ? Optional.empty() : Optional.of("starting its consumers and servers");
    }

    /** Loops stop on shutdown; until then a loop stopped or a thread ended means records wait. */
    private Optional<String> consumersProblem() {
        if (closed.get()) {
            return Optional.empty(); // reported by the "started" check
        }
        List<String> dead = new ArrayList<>();
        for (Watched w : loops) {
            if (!w.loop().isRunning()) {
                dead.add(w.name() + " has stopped");
            } else if (w.thread().getState() == Thread.State.TERMINATED) {
                dead.add(w.name() + " has no thread any more");
            }
        }
        return dead.isEmpty() ? Optional.empty() : Optional.of("consumer loop " + String.join(", ", dead));
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
