package io.ragline.cli;

import io.ragline.console.system.AdminProbe;
import io.ragline.core.config.ConfigException;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.Env;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ragline health}: the container image's {@code HEALTHCHECK} (distroless has no shell and
 * no curl). GETs {@code /health/ready} of the Ragline process beside it: on {@code
 * RAGLINE_ADMIN_PORT} when set, else on each process's default admin port in turn, the first port
 * that accepts the connection deciding (one Ragline process per container). Exit 0 for 200, 1
 * otherwise; one line on stdout either way.
 */
@Command(
        name = "health",
        mixinStandardHelpOptions = true,
        description = {
            "Check the readiness of the Ragline process on this machine (GET /health/ready)",
            "on RAGLINE_ADMIN_PORT, else on the first default admin port that answers.",
            "Exit 0 when ready (200), 1 otherwise."
        })
public final class HealthCommand implements Callable<Integer> {
    static final String READY_PATH = AdminProbe.READY_PATH;
    private static final AdminProbe PROBE = new AdminProbe(Duration.ofSeconds(2), Duration.ofSeconds(5));

    @Option(names = "--url", description = "The readiness URL to GET instead, e.g. http://127.0.0.1:9081/health/ready.")
    URI url;

    /** The default admin port of every process {@code ragline} runs, in the order they are tried. */
    public static List<Integer> defaultAdminPorts() {
        return WorkerCommands.PROCESSES.stream()
                .map(WorkerCommands.Process::defaultAdminPort)
                .toList();
    }

    @Override
    public Integer call() {
        return check(url, Env.load(), System.out);
    }

    static int check(URI url, Env env, PrintStream out) {
        List<URI> candidates;
        if (url != null) {
            candidates = List.of(url);
        } else {
            Optional<String> configured = env.raw(CoreSettings.ADMIN_PORT);
            if (configured.isPresent()) {
                int port = env.port(CoreSettings.ADMIN_PORT, 0);
                try {
                    env.validate();
                } catch (ConfigException e) {
                    out.println("not ready: " + String.join("; ", e.problems()));
                    return 1;
                }
                if (port == 0) {
                    out.println("not ready: " + CoreSettings.ADMIN_PORT + "='" + configured.get()
                            + "' names no fixed port to check; give --url");
                    return 1;
                }
                candidates = List.of(readyUrl(port));
            } else {
                candidates = defaultAdminPorts().stream()
                        .map(HealthCommand::readyUrl)
                        .toList();
            }
        }
        for (URI candidate : candidates) {
            try {
                int status = PROBE.status(candidate);
                out.println((status == 200 ? "ready: " : "not ready: ") + candidate + " answered " + status);
                return status == 200 ? 0 : 1;
            } catch (ConnectException e) {
                // nothing listens there: the next port
            } catch (IOException | IllegalArgumentException e) {
                out.println("not ready: " + candidate + ": " + e);
                return 1;
            }
        }
        out.println("not ready: nothing accepts a connection at "
                + candidates.stream().map(URI::toString).collect(Collectors.joining(", ")));
        return 1;
    }

    private static URI readyUrl(int port) {
        return URI.create("http://127.0.0.1:" + port + READY_PATH);
    }
}
