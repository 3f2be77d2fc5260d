package io.ragline.console;

import io.ragline.console.api.ApiRoutes;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.http.HttpSettings;
import java.util.function.Consumer;

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

    private Console() {}

    /** {@code ragline console}: listening on every interface unless RAGLINE_HTTP_HOST says otherwise. */
    public static Consumer<WorkerRuntime> wiring(Env env) {
        return wiring(
                env,
                "RAGLINE_HTTP_PORT",
                DEFAULT_HTTP_PORT,
                HttpSettings.forApi(env, HttpSettings.DEFAULT_HOST, ConsoleServer.NAME));
    }

    /**
     * Reads the settings now (their problems join the start-up report) and serves the console
     * later, on {@code portVariable}, with HTTP settings the caller read ({@code ragline all}).
     */
    public static Consumer<WorkerRuntime> wiring(Env env, String portVariable, int defaultPort, HttpSettings http) {
        int port = env.port(portVariable, defaultPort);
        return runtime -> {
            ApiRoutes routes = new ApiRoutes(runtime.dataSource());
            runtime.manage(new ConsoleServer(http, port, portVariable, routes, version()));
        };
    }

    /** This build's version, as the OpenAPI document and {@code GET /system} say it. */
    public static String version() {
        String v = Console.class.getPackage().getImplementationVersion();
        return v == null ? "development build" : v;
    }
}
