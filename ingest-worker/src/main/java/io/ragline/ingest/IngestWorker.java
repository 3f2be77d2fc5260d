package io.ragline.ingest;

import io.ragline.core.WorkerMain;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.ingest.webhook.WebhookServer;
import java.util.function.Consumer;

/**
 * The {@code ingest-worker} process: serves {@code POST /webhooks/{source}} on
 * {@code RAGLINE_HTTP_PORT} (the documents and claude_events consumers arrive with their issues;
 * ARCHITECTURE.md section 1). Runs on the shared runtime of {@code core} (settings, pool,
 * migrations, health and metrics).
 */
public final class IngestWorker {
    public static final String NAME = "ingest-worker";

    /** {@code RAGLINE_HTTP_PORT} default. */
    public static final int DEFAULT_HTTP_PORT = 8081;

    /** {@code RAGLINE_ADMIN_PORT} default. */
    public static final int DEFAULT_ADMIN_PORT = 9081;

    private IngestWorker() {}

    public static void main(String[] args) {
        Env env = Env.load();
        System.exit(WorkerMain.run(NAME, DEFAULT_ADMIN_PORT, env, wiring(env)));
    }

    /**
     * Reads the ingest-worker's settings now (their problems join the start-up report) and returns
     * what starts its servers once the runtime is up.
     */
    public static Consumer<WorkerRuntime> wiring(Env env) {
        return WebhookServer.wiring(env, DEFAULT_HTTP_PORT);
    }
}
