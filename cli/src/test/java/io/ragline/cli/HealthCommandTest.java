package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.ragline.core.config.Env;
import io.ragline.core.health.HealthCheck;
import io.ragline.core.health.Readiness;
import io.ragline.core.http.AdminServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code ragline health} against a real admin port (the one every worker serves). */
class HealthCommandTest {
    private final AtomicReference<Optional<String>> problem = new AtomicReference<>(Optional.empty());
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private AdminServer admin;

    @BeforeEach
    void startAdminServer() throws Exception {
        Readiness readiness = new Readiness(List.of(HealthCheck.of("kafka", problem::get)));
        admin = new AdminServer(0, readiness, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        admin.start();
    }

    @AfterEach
    void stopAdminServer() {
        admin.close();
    }

    @Test
    void aReadyProcessOnRaglineAdminPortExitsZeroWithOneLine() {
        int exit = check(null, Map.of("RAGLINE_ADMIN_PORT", String.valueOf(admin.port())));

        assertThat(exit).isZero();
        assertThat(output()).isEqualTo("ready: http://127.0.0.1:" + admin.port() + "/health/ready answered 200\n");
    }

    @Test
    void aProcessThatIsNotReadyExitsOne() {
        problem.set(Optional.of("cannot reach Kafka"));

        int exit = check(null, Map.of("RAGLINE_ADMIN_PORT", String.valueOf(admin.port())));

        assertThat(exit).isEqualTo(1);
        assertThat(output()).startsWith("not ready: ").contains("answered 503");
    }

    @Test
    void theUrlOptionWinsOverTheAdminPortVariable() throws Exception {
        URI url = URI.create("http://127.0.0.1:" + admin.port() + "/health/ready");

        int exit = check(url, Map.of("RAGLINE_ADMIN_PORT", String.valueOf(closedPort())));

        assertThat(exit).isZero();
        assertThat(output()).startsWith("ready: " + url);
    }

    @Test
    void nothingListeningOnThePortExitsOneNamingIt() throws Exception {
        int port = closedPort();

        int exit = check(null, Map.of("RAGLINE_ADMIN_PORT", String.valueOf(port)));

        assertThat(exit).isEqualTo(1);
        assertThat(output())
                .isEqualTo("not ready: nothing accepts a connection at http://127.0.0.1:" + port + "/health/ready\n");
    }

    @Test
    void anAdminPortThatIsNotAPortOrIsZeroExitsOneSayingWhy() {
        assertThat(check(null, Map.of("RAGLINE_ADMIN_PORT", "admin"))).isEqualTo(1);
        assertThat(check(null, Map.of("RAGLINE_ADMIN_PORT", "0"))).isEqualTo(1);

        assertThat(output())
                .contains("RAGLINE_ADMIN_PORT")
                .contains("'admin'")
                .contains("RAGLINE_ADMIN_PORT='0' names no fixed port to check; give --url");
    }

    @Test
    void withoutAnAdminPortEveryProcessDefaultIsTriedInTurn() {
        int exit = check(null, Map.of());

        // Nothing of Ragline runs on this machine's default ports during the tests; each one is named.
        assertThat(output()).satisfiesAnyOf(line -> assertThat(line).startsWith("ready: "), line -> {
            assertThat(exit).isEqualTo(1);
            for (int port : HealthCommand.defaultAdminPorts()) {
                assertThat(line).contains("http://127.0.0.1:" + port + "/health/ready");
            }
        });
        assertThat(HealthCommand.defaultAdminPorts())
                .containsExactlyInAnyOrder(9080, 9081, 9082, 9083, 9084, 9085)
                .contains(WorkerCommands.ALL_ADMIN_PORT);
    }

    private int check(URI url, Map<String, String> env) {
        return HealthCommand.check(url, new Env(env), new PrintStream(out, true, StandardCharsets.UTF_8));
    }

    private String output() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
