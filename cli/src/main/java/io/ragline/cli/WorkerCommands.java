package io.ragline.cli;

import io.ragline.console.Console;
import io.ragline.console.system.ConsoleWorkers;
import io.ragline.core.WorkerMain;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.http.HttpSettings;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.embedding.search.SearchServer;
import io.ragline.ingest.IngestWorker;
import io.ragline.training.TrainingWorker;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The worker processes as subcommands, each running in the foreground until SIGTERM. */
final class WorkerCommands {
    private WorkerCommands() {}

    /** Default admin port of {@code ragline all}. */
    static final int ALL_ADMIN_PORT = 9080;

    /**
     * @param wiring reads the process's own settings from the environment (their problems join
     *     the start-up report) and returns what starts its consumers and servers
     */
    record Process(
            String name, int defaultAdminPort, String description, Function<Env, Consumer<WorkerRuntime>> wiring) {

        Process(String name, int defaultAdminPort, String description) {
            this(name, defaultAdminPort, description, env -> runtime -> {});
        }
    }

    static final List<Process> PROCESSES = List.of(
            new Process(
                    IngestWorker.NAME,
                    IngestWorker.DEFAULT_ADMIN_PORT,
                    "Run the ingest-worker (webhooks on port 8081, admin port 9081).",
                    IngestWorker::wiring),
            new Process(
                    EmbeddingWorker.NAME,
                    EmbeddingWorker.DEFAULT_ADMIN_PORT,
                    "Run the embedding-worker (search on port 8082, admin port 9082).",
                    env -> EmbeddingWorker.wiring(env, "RAGLINE_HTTP_PORT", EmbeddingWorker.DEFAULT_HTTP_PORT)),
            new Process(
                    TrainingWorker.NAME,
                    TrainingWorker.DEFAULT_ADMIN_PORT,
                    "Run the training-worker (admin port 9083).",
                    TrainingWorker::wiring),
            new Process(
                    EventDispatcher.NAME,
                    EventDispatcher.DEFAULT_ADMIN_PORT,
                    "Run the event-dispatcher (admin port 9084).",
                    EventDispatcher::wiring),
            new Process(
                    Console.NAME,
                    Console.DEFAULT_ADMIN_PORT,
                    "Run the console: the operator API (/api/v1), Swagger UI (/api/v1/docs/) and the web console"
                            + " (/) on port 8085, admin port 9085.",
                    Console::wiring),
            new Process(
                    "all",
                    ALL_ADMIN_PORT,
                    "Run every process in one JVM, for development (webhooks on 127.0.0.1:8080, search on"
                            + " 127.0.0.1:8082, the console on 127.0.0.1:8085, admin on 9080).",
                    WorkerCommands::all));

    /**
     * Every process's wiring on one runtime: the same code paths as separate processes. Its HTTP
     * ports listen on this machine only unless {@code RAGLINE_HTTP_HOST} says otherwise (it is for
     * development), so that search needs no token there.
     */
    static Consumer<WorkerRuntime> all(Env env) {
        HttpSettings http = HttpSettings.forApi(env, HttpSettings.LOOPBACK_HOST, SearchServer.NAME);
        List<Consumer<WorkerRuntime>> wirings = List.of(
                EventDispatcher.wiring(env),
                IngestWorker.wiring(env, ALL_HTTP_PORT, http),
                EmbeddingWorker.wiring(env, EmbeddingWorker.SEARCH_PORT, EmbeddingWorker.DEFAULT_HTTP_PORT, http),
                TrainingWorker.wiring(env),
                Console.wiring(
                        env,
                        Console.CONSOLE_PORT,
                        Console.DEFAULT_HTTP_PORT,
                        http,
                        runtime -> ConsoleWorkers.local("all", runtime.adminPort())));
        return runtime -> wirings.forEach(w -> w.accept(runtime));
    }

    /** Default HTTP port of {@code ragline all} (webhooks; search is on {@code RAGLINE_SEARCH_PORT}). */
    static final int ALL_HTTP_PORT = 8080;

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
            Env env = Env.load();
            return WorkerMain.run(
                    process.name(),
                    process.defaultAdminPort(),
                    env,
                    process.wiring().apply(env));
        }
    }
}
