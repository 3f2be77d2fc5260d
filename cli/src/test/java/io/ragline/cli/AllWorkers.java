package io.ragline.cli;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import java.util.Map;

/** {@code ragline all} in the test's JVM: every worker wired on one runtime, as the CLI does it. */
final class AllWorkers {
    private AllWorkers() {}

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
