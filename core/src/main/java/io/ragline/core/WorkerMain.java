package io.ragline.core;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one process in the foreground until SIGTERM: exit 0 after a clean shutdown, 2 for bad
 * configuration (every problem listed on stderr), 1 for any other start-up failure.
 */
public final class WorkerMain {
    public static final int EXIT_CONFIG = 2;
    public static final int EXIT_FAILURE = 1;

    private WorkerMain() {}

    public static int run(String processName, int defaultAdminPort, Env env) {
        return run(processName, defaultAdminPort, env, runtime -> {});
    }

    /** Runs a process whose {@code wiring} starts its consumers and servers on the runtime. */
    public static int run(
            String processName, int defaultAdminPort, Env env, java.util.function.Consumer<WorkerRuntime> wiring) {
        Logger log = LoggerFactory.getLogger(WorkerMain.class);
        WorkerRuntime runtime;
        try {
            runtime = WorkerRuntime.start(processName, defaultAdminPort, env).closeOnSignal();
            try {
                wiring.accept(runtime);
                runtime.markStarted();
            } catch (RuntimeException e) {
                if (runtime.isClosed()) {
                    // SIGTERM (exit 0) or a fatal failure (exit 1) while the consumers and servers
                    // were starting: closing is under way already.
                    log.info("{} stopped while starting", processName);
                    return awaitExit(runtime);
                }
                runtime.close();
                throw e;
            }
        } catch (ConfigException e) {
            System.err.println(processName + ": " + e.getMessage());
            return EXIT_CONFIG;
        } catch (RuntimeException e) {
            log.error("{} failed to start: {}", processName, e.getMessage(), e);
            return EXIT_FAILURE;
        }
        log.info("{} ready (admin port {})", processName, runtime.adminPort());
        return awaitExit(runtime);
    }

    private static int awaitExit(WorkerRuntime runtime) {
        try {
            runtime.awaitShutdown();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            runtime.close();
        }
        return runtime.exitCode();
    }
}
