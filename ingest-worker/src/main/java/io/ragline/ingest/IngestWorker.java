package io.ragline.ingest;

import io.ragline.core.WorkerMain;
import io.ragline.core.config.Env;

/**
 * The {@code ingest-worker} process: consumes documents and claude_events, serves POST /webhooks/{source} (ARCHITECTURE.md section 1). Runs on the shared
 * runtime of {@code core} (settings, pool, migrations, health and metrics).
 */
public final class IngestWorker {
    public static final String NAME = "ingest-worker";

    /** {@code RAGLINE_HTTP_PORT} default. */
    public static final int DEFAULT_HTTP_PORT = 8081;

    /** {@code RAGLINE_ADMIN_PORT} default. */
    public static final int DEFAULT_ADMIN_PORT = 9081;

    private IngestWorker() {}

    public static void main(String[] args) {
        System.exit(WorkerMain.run(NAME, DEFAULT_ADMIN_PORT, Env.load()));
    }
}
