package io.ragline.cli;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import picocli.CommandLine;

/**
 * The CLI's own list of worker processes ({@link WorkerCommands#PROCESSES}, package-private), for
 * the chart's tests: a Deployment's {@code args} name one, and its environment is held to what that
 * process reads.
 */
public final class Processes {
    private Processes() {}

    /** What {@code ragline <name>} runs: its default admin port and its wiring, read from an {@link Env}. */
    public record Process(String name, int defaultAdminPort, Function<Env, Consumer<WorkerRuntime>> wiring) {}

    /**
     * The logins {@code ragline <args>} would grant {@code ragline_worker} to, parsed by the real
     * command ({@code migrate --worker-login NAME}); fails when the arguments are no migrate command or
     * a login is one {@link LoginGrants} refuses by its name.
     */
    public static List<String> workerLoginsOfMigration(List<String> args) {
        CommandLine.ParseResult parsed = new CommandLine(new RaglineCli()).parseArgs(args.toArray(String[]::new));
        if (!parsed.hasSubcommand()
                || !(parsed.subcommand().commandSpec().userObject() instanceof MigrateCommand migrate)) {
            throw new AssertionError(args + " is not `ragline migrate`");
        }
        migrate.workerLogins.stream()
                .filter(LoginGrants::isRaglineRole)
                .findFirst()
                .ifPresent(login -> {
                    throw new AssertionError(
                            "ragline migrate refuses to grant to '" + login + "': a name of" + " Ragline's own roles");
                });
        return List.copyOf(migrate.workerLogins);
    }

    public static Process named(String name) {
        return WorkerCommands.PROCESSES.stream()
                .filter(p -> p.name().equals(name))
                .map(p -> new Process(p.name(), p.defaultAdminPort(), p.wiring()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no ragline process is named '" + name + "'"));
    }
}
