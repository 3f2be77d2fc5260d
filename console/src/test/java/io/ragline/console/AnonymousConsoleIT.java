package io.ragline.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A console without tokens, on this machine only (as {@code ragline all} runs it): it answers
 * requests addressed to this machine, and no other name, so that a web page the operator visits
 * cannot reach it through a DNS name that resolves to 127.0.0.1. Asked with {@code curl}, which
 * can send any {@code Host}.
 */
class AnonymousConsoleIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static ConsoleTestServer console;

    @BeforeAll
    static void start() {
        console = ConsoleTestServer.start(db.env(), (runtime, routes) -> {}, null);
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    @Test
    void onlyRequestsAddressedToThisMachineAreAnswered() throws Exception {
        String audit = console.uri("/api/v1/audit").toString();
        int port = console.uri("/").getPort();

        assertThat(curl(audit)).startsWith("HTTP/1.1 200").contains("\"items\"");
        assertThat(curl("-H", "Host: localhost:" + port, audit)).startsWith("HTTP/1.1 200");
        assertThat(curl("-H", "Host: rebound.example:" + port, audit))
                .startsWith("HTTP/1.1 403")
                .contains("addressed to this machine");
        assertThat(curl("-H", "Host: 127.0.0.1.rebound.example", audit)).startsWith("HTTP/1.1 403");
    }

    private static String curl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-s", "-i", "--max-time", "30"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(40, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
