package io.ragline.dispatcher;

import io.ragline.core.WorkerMain;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.dispatcher.bridge.NotifyBridge;
import io.ragline.dispatcher.outbox.OutboxMetrics;
import io.ragline.dispatcher.outbox.OutboxPublisher;
import io.ragline.dispatcher.outbox.OutboxRelay;
import java.lang.management.ManagementFactory;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The {@code event-dispatcher} process: publishes the transactional outbox to Kafka, woken by
 * LISTEN/NOTIFY, one leader per database schema (ARCHITECTURE.md sections 1 and 2).
 */
public final class EventDispatcher {
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
        DispatcherSettings settings = DispatcherSettings.from(env);
        return runtime -> start(runtime, settings);
    }

    private static void start(WorkerRuntime runtime, DispatcherSettings settings) {
        String prefix = runtime.settings().topicPrefix();
        NotifyBridge bridge = new NotifyBridge(settings.notifyBridge(), runtime.producer(), prefix);
        OutboxRelay relay = new OutboxRelay(
                runtime.settings(),
                settings,
                runtime.dataSource(),
                new OutboxPublisher(runtime.producer(), prefix, settings.publishTimeout()),
                bridge,
                new OutboxMetrics(runtime.registry()),
                ManagementFactory.getRuntimeMXBean().getName() + "/"
                        + UUID.randomUUID().toString().substring(0, 8));
        runtime.manage(relay.start());
    }
}
