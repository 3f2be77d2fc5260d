package io.ragline.cli;

import io.ragline.core.WorkerMain;
import io.ragline.core.config.Env;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.ingest.IngestWorker;
import io.ragline.training.TrainingWorker;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The worker processes as subcommands, each running in the foreground until SIGTERM. */
final class WorkerCommands {
    private WorkerCommands() {}

    /** Default admin port of {@code ragline all}. */
    static final int ALL_ADMIN_PORT = 9080;

    record Process(String name, int defaultAdminPort, String description) {}

    static final List<Process> PROCESSES = List.of(
            new Process(IngestWorker.NAME, IngestWorker.DEFAULT_ADMIN_PORT, "Run the ingest-worker (admin port 9081)."),
            new Process(
                    EmbeddingWorker.NAME,
                    EmbeddingWorker.DEFAULT_ADMIN_PORT,
                    "Run the embedding-worker (admin port 9082)."),
            new Process(
                    TrainingWorker.NAME,
                    TrainingWorker.DEFAULT_ADMIN_PORT,
                    "Run the training-worker (admin port 9083)."),
            new Process(
                    EventDispatcher.NAME,
                    EventDispatcher.DEFAULT_ADMIN_PORT,
                    "Run the event-dispatcher (admin port 9084)."),
            new Process("all", ALL_ADMIN_PORT, "Run every process in one JVM, for development (admin port 9080)."));

    static void register(CommandLine cli) {
        for (Process p : PROCESSES) {
            CommandLine sub = new CommandLine(new Run(p));
            sub.getCommandSpec().usageMessage().description(p.description());
            cli.addSubcommand(p.name(), sub);
        }
    }

    @Command(mixinStandardHelpOptions = true)
    static final class Run implements Callable<Integer> {
        private final Process process;

        Run(Process process) {
            this.process = process;
        }

        @Override
        public Integer call() {
            return WorkerMain.run(process.name(), process.defaultAdminPort(), Env.load());
        }
    }
}
