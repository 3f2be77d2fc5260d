package io.ragline.console;

import io.ragline.console.api.ApiRoutes;
import io.ragline.console.collections.CollectionAreas;
import io.ragline.console.conversations.ConversationsApi;
import io.ragline.console.deadletters.DeadLettersApi;
import io.ragline.console.events.EventsApi;
import io.ragline.console.system.ConsoleWorkers;
import io.ragline.console.system.SystemApi;
import io.ragline.console.training.TrainingApi;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.http.HttpSettings;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code console} process: the operator API ({@code /api/v1}), its OpenAPI document and
 * Swagger UI, and the web console, on {@code RAGLINE_HTTP_PORT} (default 8085; admin port 9085).
 * {@code ragline all} serves it too, on {@code RAGLINE_CONSOLE_PORT}.
 */
public final class Console {
    public static final String NAME = "console";
    public static final int DEFAULT_HTTP_PORT = 8085;
    public static final int DEFAULT_ADMIN_PORT = 9085;
    /** The console's port in {@code ragline all}, where RAGLINE_HTTP_PORT is the webhooks'. */
    public static final String CONSOLE_PORT = "RAGLINE_CONSOLE_PORT";

    private static final Logger log = LoggerFactory.getLogger(Console.class);

    private Console() {}

    /** {@code ragline console}: listening on every interface unless RAGLINE_HTTP_HOST says otherwise. */
    public static Consumer<WorkerRuntime> wiring(Env env) {
        return wiring(
                env,
                "RAGLINE_HTTP_PORT",
                DEFAULT_HTTP_PORT,
                HttpSettings.forApi(env, HttpSettings.DEFAULT_HOST, ConsoleServer.NAME),
                runtime -> ConsoleWorkers.none());
    }

    /**
     * Reads the settings now (their problems join the start-up report) and serves the console
     * later, on {@code portVariable}, with HTTP settings the caller read ({@code ragline all}).
     */
    public static Consumer<WorkerRuntime> wiring(
            Env env,
            String portVariable,
            int defaultPort,
            HttpSettings http,
            Function<WorkerRuntime, ConsoleWorkers> defaultWorkers) {
        int port = env.port(portVariable, defaultPort);
        BiConsumer<WorkerRuntime, ApiRoutes> areas = areas(env, defaultWorkers);
        return runtime -> {
            ApiRoutes routes = new ApiRoutes(runtime.dataSource(), runtime.longStatements());
            areas.accept(runtime, routes);
            runtime.manage(new ConsoleServer(http, port, portVariable, routes, version()));
        };
    }

    /**
     * Every area of the API: reads their settings now ({@code RAGLINE_CONSOLE_WORKERS} and the
     * collections' and search's), registers their routes on the runtime later. {@code
     * defaultWorkers}: whose admin ports the system area asks when RAGLINE_CONSOLE_WORKERS is unset.
     */
    public static BiConsumer<WorkerRuntime, ApiRoutes> areas(
            Env env, Function<WorkerRuntime, ConsoleWorkers> defaultWorkers) {
        BiConsumer<WorkerRuntime, ApiRoutes> collections = CollectionAreas.wiring(env);
        Optional<ConsoleWorkers> workers = ConsoleWorkers.configured(env);
        return (runtime, routes) -> {
            collections.accept(runtime, routes);
            new EventsApi().register(routes);
            new ConversationsApi().register(routes);
            new DeadLettersApi(runtime.settings(), runtime::producer).register(routes);
            new TrainingApi().register(routes);
            ConsoleWorkers asked = workers.orElseGet(() -> defaultWorkers.apply(runtime));
            log.info("console: asking the admin ports of {}", asked);
            SystemApi.of(runtime, asked, version()).register(routes);
        };
    }

    /** This build's version, as the OpenAPI document and {@code GET /system} say it. */
    public static String version() {
        String v = Console.class.getPackage().getImplementationVersion();
        return v == null ? "development build" : v;
    }
}
