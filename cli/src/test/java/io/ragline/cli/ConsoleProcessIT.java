package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ragline console} as a real process, asked by {@code curl} as an operator's script would:
 * tokens with roles from a file, the public OpenAPI document and Swagger UI, 401 without a token,
 * the audit log readable by a viewer, a viewer's write refused and recorded, and no token in its
 * output.
 */
class ConsoleProcessIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final String VIEWER = "viewer-token-for-the-process-0123";
    static final String ADMIN = "admin-token-for-the-process-0123";

    @TempDir
    Path dir;

    @Test
    void theConsoleServesItsApiBehindRolesAndItsDocumentsToAnyone() throws Exception {
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "viewer:vera:" + VIEWER + "\n" + ADMIN + "\n");
        Files.setPosixFilePermissions(tokens, PosixFilePermissions.fromString("rw-------"));
        int adminPort = freePort();
        int port = freePort();
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", String.valueOf(adminPort));
        env.put("RAGLINE_HTTP_PORT", String.valueOf(port));
        env.put("RAGLINE_API_TOKENS_FILE", tokens.toString());
        JavaProcess console = CliProcess.start(env, "console");
        try {
            CliProcess.awaitReady(adminPort, Duration.ofSeconds(60));
            String base = "http://127.0.0.1:" + port;

            assertThat(curl(base + "/api/v1/openapi.json"))
                    .startsWith("HTTP/1.1 200")
                    .contains("\"openapi\" : \"3.1.0\"");
            assertThat(curl(base + "/api/v1/docs/")).startsWith("HTTP/1.1 200").contains("swagger-ui-bundle.js");
            assertThat(curl(base + "/api/v1/audit"))
                    .startsWith("HTTP/1.1 401")
                    .containsIgnoringCase("WWW-Authenticate: Bearer realm=\"ragline\"")
                    .containsIgnoringCase("Content-Type: application/problem+json");
            assertThat(curl("-H", "Authorization: Bearer " + VIEWER, base + "/api/v1/audit"))
                    .startsWith("HTTP/1.1 200")
                    .contains("\"items\"");
            assertThat(curl(
                            "-H",
                            "Authorization: Bearer " + VIEWER,
                            "-X",
                            "POST",
                            base + "/api/v1/collections/default/pause"))
                    .startsWith("HTTP/1.1 403")
                    .contains("needs the role operator");
            assertThat(curl("-H", "Authorization: Bearer " + VIEWER, base + "/api/v1/audit"))
                    .contains("\"who\":\"vera\"")
                    .contains("\"action\":\"POST /collections/{name}/pause\"")
                    .contains("\"status\":403");
            assertThat(curl("-H", "Authorization: Bearer " + VIEWER, base + "/api/v1/collections"))
                    .startsWith("HTTP/1.1 200")
                    .contains("\"name\":\"default\"")
                    .contains("\"status\":\"active\"");
            assertThat(curl("-H", "Authorization: Bearer " + VIEWER, base + "/api/v1/nothing"))
                    .startsWith("HTTP/1.1 404")
                    .contains("application/problem+json");
        } finally {
            console.terminate();
        }
        assertThat(console.waitFor(30)).as(console.stderr()).isZero();
        assertThat(console.stderr() + console.stdout())
                .contains("console ready")
                .doesNotContain(VIEWER)
                .doesNotContain(ADMIN);
    }

    @Test
    void aConsoleOnEveryInterfaceWithoutATokenRefusesToStart() throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0");
        JavaProcess console = CliProcess.start(env, "console");

        assertThat(console.waitFor(60)).isEqualTo(2);
        assertThat(console.stderr()).contains("RAGLINE_API_TOKENS");
    }

    private static String curl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-s", "-i", "--max-time", "30"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(40, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
