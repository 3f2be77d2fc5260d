package io.ragline.dispatcher;

import io.ragline.core.WorkerMain;
import io.ragline.core.config.Env;

/**
 * The {@code event-dispatcher} process: drains the outbox to Kafka (ARCHITECTURE.md section 1). Runs on the shared
 * runtime of {@code core} (settings, pool, migrations, health and metrics).
 */
public final class EventDispatcher {
    public static final String NAME = "event-dispatcher";

    /** {@code RAGLINE_ADMIN_PORT} default. */
    public static final int DEFAULT_ADMIN_PORT = 9084;

    private EventDispatcher() {}

    public static void main(String[] args) {
        System.exit(WorkerMain.run(NAME, DEFAULT_ADMIN_PORT, Env.load()));
    }
}
