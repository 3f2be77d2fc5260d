package io.ragline.cli;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import java.util.HashMap;
import java.util.Map;

/** {@code ragline all} in the test's JVM: every worker wired on one runtime, as the CLI does it. */
final class AllWorkers {
    private AllWorkers() {}

    /**
     * {@code base} (the database, the topic prefix) plus what every in-JVM test of the workers
     * wants: ports picked by the system on this machine only (as {@code ragline all} by default),
     * and an outbox polled every 200 ms. Mutable, to add to.
     */
    static Map<String, String> env(Map<String, String> base) {
        Map<String, String> env = new HashMap<>(base);
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0");
        env.put("RAGLINE_SEARCH_PORT", "0");
        env.put("RAGLINE_CONSOLE_PORT", "0");
        env.put("RAGLINE_OUTBOX_POLL_INTERVAL", "200ms");
        return env;
    }

    /** Validates {@code env} (failing on any problem), starts the runtime and wires every worker. */
    static WorkerRuntime start(Map<String, String> env) {
        Env e = new Env(env);
        var wiring = WorkerCommands.all(e);
        e.validate();
        WorkerRuntime runtime = WorkerRuntime.start("all", 0, e);
        wiring.accept(runtime);
        return runtime;
    }
}
