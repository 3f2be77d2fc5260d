package io.ragline.training;

import io.ragline.core.WorkerMain;
import io.ragline.core.config.Env;

/**
 * The {@code training-worker} process: consumes training (ARCHITECTURE.md section 1). Runs on the shared
 * runtime of {@code core} (settings, pool, migrations, health and metrics).
 */
public final class TrainingWorker {
    public static final String NAME = "training-worker";

    /** {@code RAGLINE_ADMIN_PORT} default. */
    public static final int DEFAULT_ADMIN_PORT = 9083;

    private TrainingWorker() {}

    public static void main(String[] args) {
        System.exit(WorkerMain.run(NAME, DEFAULT_ADMIN_PORT, Env.load()));
    }
}
