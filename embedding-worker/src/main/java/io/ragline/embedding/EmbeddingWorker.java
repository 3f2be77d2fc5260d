package io.ragline.embedding;

import io.ragline.core.WorkerMain;
import io.ragline.core.config.Env;

/**
 * The {@code embedding-worker} process: consumes embedding-requests, serves POST /search (ARCHITECTURE.md section 1). Runs on the shared
 * runtime of {@code core} (settings, pool, migrations, health and metrics).
 */
public final class EmbeddingWorker {
    public static final String NAME = "embedding-worker";

    /** {@code RAGLINE_HTTP_PORT} default. */
    public static final int DEFAULT_HTTP_PORT = 8082;

    /** {@code RAGLINE_ADMIN_PORT} default. */
    public static final int DEFAULT_ADMIN_PORT = 9082;

    private EmbeddingWorker() {}

    public static void main(String[] args) {
        System.exit(WorkerMain.run(NAME, DEFAULT_ADMIN_PORT, Env.load()));
    }
}
