package io.ragline.cli;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The CLI's own list of worker processes ({@link WorkerCommands#PROCESSES}, package-private), for
 * the chart's tests: a Deployment's {@code args} name one, and its environment is held to what that
 * process reads.
 */
public final class Processes {
    private Processes() {}

    /** What {@code ragline <name>} runs: its default admin port and its wiring, read from an {@link Env}. */
    public record Process(String name, int defaultAdminPort, Function<Env, Consumer<WorkerRuntime>> wiring) {}

    public static Process named(String name) {
        return WorkerCommands.PROCESSES.stream()
                .filter(p -> p.name().equals(name))
                .map(p -> new Process(p.name(), p.defaultAdminPort(), p.wiring()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no ragline process is named '" + name + "'"));
    }
}
