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
        } catch (ConfigException e) {
            System.err.println(processName + ": " + e.getMessage());
            return EXIT_CONFIG;
        } catch (Throwable e) { // an Error included: the runtime closed what it had opened
            log.error("{} failed to start: {}", processName, e.toString(), e);
            return EXIT_FAILURE;
        }
        boolean started;
        try {
            wiring.accept(runtime);
            started = runtime.markStarted();
        } catch (ConfigException e) { // a worker's own configuration, read while wiring (routing rules)
            System.err.println(processName + ": " + e.getMessage());
            runtime.close();
            return EXIT_CONFIG;
        } catch (Throwable e) { // an Error included: supervised threads would keep the JVM alive
            if (e instanceof Error || !runtime.isClosed()) {
                log.error("{} failed to start: {}", processName, e.toString(), e);
                runtime.fail(e); // closes within the shutdown bound; exit status 1
            }
            started = false;
        }
        if (started) {
            log.info("{} ready (admin port {})", processName, runtime.adminPort());
        } else if (runtime.exitCode() == 0) {
            // SIGTERM while the consumers and servers were starting: closing is under way already.
            log.info("{} stopped while starting", processName);
        }
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
