package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WorkerProcessIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @ParameterizedTest
    @ValueSource(
            strings = {"ingest-worker", "embedding-worker", "training-worker", "event-dispatcher", "console", "all"})
    void badConfigurationStopsStartUpWithOneMessageNamingEveryProblemAndNoSecret(String process) throws Exception {
        JavaProcess worker = CliProcess.start(
                Map.of(
                        "DATABASE_URL", "postgres://ragline:Hunter2-Secret@db.internal:port/rag",
                        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + freePort(),
                        "RAGLINE_STARTUP_TIMEOUT", "2s",
                        "RAGLINE_HTTP_HOST", "127.0.0.1", // search without a token: this machine only
                        "RAGLINE_LOG_FORMAT", "yaml"),
                process);

        assertThat(worker.waitFor(60)).isEqualTo(2);
        String stderr = worker.stderr();
        assertThat(stderr)
                .contains("invalid configuration (3 problems)")
                .contains("DATABASE_URL='postgres://ragline:<masked>@db.internal:port/rag'")
                .contains("KAFKA_BOOTSTRAP_SERVERS=")
                .contains("RAGLINE_LOG_FORMAT='yaml'")
                .doesNotContain("Hunter2-Secret");
        assertThat(worker.stdout()).doesNotContain("Hunter2-Secret");
    }

    @Test
    void aWorkerBecomesReadyAndExitsZeroOnSigterm() throws Exception {
        int adminPort = freePort();
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", String.valueOf(adminPort));
        env.put("RAGLINE_HTTP_PORT", "0"); // the webhook port: any free one
        env.put("RAGLINE_LOG_FORMAT", "json");
        JavaProcess worker = CliProcess.start(env, "ingest-worker");
        CliProcess.awaitReady(adminPort, Duration.ofSeconds(60));
        worker.terminate();

        assertThat(worker.waitFor(30)).as(worker.stderr()).isZero();
        String logs = worker.stderr();
        assertThat(logs)
                .contains("\"message\":\"ingest-worker ready (admin port " + adminPort + ")\"")
                .contains("ingest-worker stopped");
        assertThat(logs).doesNotContain(passwordOf(db.databaseUrl()));
    }

    private static String passwordOf(String url) {
        return url.replaceFirst("^[^:]+://[^:]+:([^@]+)@.*$", "$1");
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
