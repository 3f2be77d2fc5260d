package io.ragline.dispatcher;

import io.ragline.core.WorkerMain;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.retention.Retention;
import io.ragline.core.retention.RetentionSettings;
import io.ragline.core.schedule.SqlJobScheduler;
import io.ragline.dispatcher.bridge.NotifyBridge;
import io.ragline.dispatcher.outbox.Leadership;
import io.ragline.dispatcher.outbox.OutboxMetrics;
import io.ragline.dispatcher.outbox.OutboxPublisher;
import io.ragline.dispatcher.outbox.OutboxRelay;
import io.ragline.dispatcher.outbox.OutboxStore;
import io.ragline.dispatcher.outbox.RowFaults;
import java.lang.management.ManagementFactory;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code event-dispatcher} process: publishes the transactional outbox to Kafka, woken by
 * LISTEN/NOTIFY, one leader per database schema (docs/architecture.md sections 2, 3 and 9). The relay and
 * its lease heartbeat are supervised threads: if either dies, readiness answers 503 naming it and
 * the process exits 1.
 */
public final class EventDispatcher {
    private static final Logger log = LoggerFactory.getLogger(EventDispatcher.class);

    public static final String NAME = "event-dispatcher";

    /** {@code RAGLINE_ADMIN_PORT} default. */
    public static final int DEFAULT_ADMIN_PORT = 9084;

    private EventDispatcher() {}

    public static void main(String[] args) {
        Env env = Env.load();
        System.exit(WorkerMain.run(NAME, DEFAULT_ADMIN_PORT, env, wiring(env)));
    }

    /**
     * Reads the dispatcher's settings now (their problems join the start-up report) and returns
     * what starts the outbox relay once the runtime is up.
     */
    public static Consumer<WorkerRuntime> wiring(Env env) {
        return wiring(env, UnaryOperator.identity());
    }

    /**
     * As {@link #wiring(Env)}, with each transactional producer of the outbox passed through
     * {@code outboxProducer} first: for tests that inject a failure into the relay's thread. Not
     * reachable from {@link #main}.
     */
    static Consumer<WorkerRuntime> wiring(Env env, UnaryOperator<Producer<byte[], byte[]>> outboxProducer) {
        return wiring(env, (transactionalId, producer) -> outboxProducer.apply(producer));
    }

    /**
     * As {@link #wiring(Env, UnaryOperator)}, with each producer's {@code transactional.id} (the
     * schema's, or it with {@code -k}) passed too: for tests that treat the relay's producers
     * differently, such as one whose connection stalls. Not reachable from {@link #main}.
     */
    static Consumer<WorkerRuntime> wiring(
            Env env, BiFunction<String, Producer<byte[], byte[]>, Producer<byte[], byte[]>> outboxProducer) {
        DispatcherSettings settings = DispatcherSettings.from(env);
        RetentionSettings retention = RetentionSettings.from(env);
        return runtime -> {
            OutboxRelay relay = start(runtime, settings, outboxProducer);
            startRetention(runtime, retention, relay);
        };
    }

    /**
     * Retention runs here, in-process, unless pg_cron runs it or it is off: the dispatcher holds
     * the outbox lease, so of all its replicas only the leader runs it (running it on two would be
     * harmless, only wasted: every batch takes its rows FOR UPDATE SKIP LOCKED), and it is the one
     * process every deployment has exactly one kind of, whatever the collections and training.
     */
    private static void startRetention(WorkerRuntime runtime, RetentionSettings settings, OutboxRelay relay) {
        log.info("retention: {}", settings);
        if (settings.scheduler() == RetentionSettings.Scheduler.OFF) {
            return;
        }
        SqlJobScheduler scheduler = new Retention(settings, runtime.registry())
                .scheduler(runtime.dataSource(), () -> relay.leadership() == Leadership.State.LEADING);
        runtime.supervise(Retention.THREAD, scheduler, scheduler::stop);
    }

    /**
     * Whether the cluster runs Kafka's transaction protocol 2 ({@code transaction.version} 2, KIP-890),
     * under which the relay sends each batch to one partition leader at a time (LeaderGroups). When
     * it is not known (Kafka unreachable at start-up), yes: on a single broker that changes nothing,
     * and under protocol 1 it costs a flush per further leader, not order or loss.
     */
    static boolean transactionProtocol2(Admin admin) {
        try {
            FinalizedVersionRange v = admin.describeFeatures()
                    .featureMetadata()
                    .get(10, TimeUnit.SECONDS)
                    .finalizedFeatures()
                    .get("transaction.version");
            boolean two = v != null && v.maxVersionLevel() >= 2;
            log.info(
                    "outbox relay: Kafka's transaction.version is {}: {}",
                    v == null ? "not finalized (protocol 1)" : v.maxVersionLevel(),
                    two
                            ? "each batch's rows are sent to one partition leader at a time"
                            : "each batch's rows are sent to every partition leader at once");
            return two;
        } catch (ExecutionException | TimeoutException e) {
            log.warn(
                    "outbox relay: Kafka's transaction.version not known ({}): each batch's rows are sent to one"
                            + " partition leader at a time, as under protocol 2",
                    e.getCause() == null ? e.toString() : e.getCause().toString());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    private static OutboxRelay start(
            WorkerRuntime runtime,
            DispatcherSettings settings,
            BiFunction<String, Producer<byte[], byte[]>, Producer<byte[], byte[]>> outboxProducer) {
        log.info("outbox relay: {}", settings); // no secret in it: modes, sizes, durations, channels
        String prefix = runtime.settings().topicPrefix();
        String holder = ManagementFactory.getRuntimeMXBean().getName() + "/"
                + UUID.randomUUID().toString().substring(0, 8);
        String transactionalId;
        try {
            OutboxStore store = new OutboxStore(runtime.dataSource());
            transactionalId = runtime.startupStep("reading the outbox's transactional id", store::transactionalId);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the outbox's transactional id: " + e.getMessage(), e);
        }
        String bootstrap = runtime.settings().kafkaBootstrapServers();
        Admin admin = runtime.manage(KafkaClients.admin(
                bootstrap,
                runtime.settings().kafka().clientProperties(),
                NAME + "-topic-probe",
                Duration.ofSeconds(5)));
        NotifyBridge bridge = new NotifyBridge(settings.notifyBridge(), runtime.producer(), prefix);
        OutboxMetrics metrics = new OutboxMetrics(runtime.registry());
        OutboxPublisher publisher = new OutboxPublisher(
                id -> outboxProducer.apply(
                        id,
                        KafkaClients.transactionalProducer(
                                bootstrap,
                                runtime.settings().kafka(),
                                NAME + "-outbox" + id.substring(transactionalId.length()), // -1 for the second, ...
                                id,
                                settings.publishTimeout())),
                transactionalId,
                settings.producers(),
                prefix,
                metrics,
                transactionProtocol2(admin));
        OutboxRelay relay = new OutboxRelay(
                runtime.settings(),
                settings,
                runtime.dataSource(),
                publisher,
                bridge,
                metrics,
                new RowFaults(RowFaults.admin(admin, Duration.ofSeconds(5)), prefix),
                holder);
        relay.start(runtime);
        return relay;
    }
}
