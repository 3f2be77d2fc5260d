package io.ragline.ingest.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.config.Secret;
import io.ragline.core.http.HttpSettings;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook port over HTTPS (certificate and key from {@code RAGLINE_HTTP_TLS_CERT}/{@code _KEY},
 * made at test time), posted to by {@code curl} verifying against the test CA; the webhook's own
 * signature is all it needs, however many API tokens the process has.
 */
class WebhookTlsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final String SECRET = "a github webhook secret";

    @Test
    void aSignedWebhookOverHttpsIsStoredWithoutABearerTokenAndPlainHttpFails(@TempDir Path dir) throws Exception {
        TestCertificates ca = TestCertificates.authority(dir.resolve("ca"), "ragline-test-ca");
        TestCertificates.Issued certificate = ca.issue("webhooks", "dns:localhost", "ip:127.0.0.1");
        Map<String, String> values = new HashMap<>(db.env());
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.put("RAGLINE_HTTP_PORT", "0");
        values.put("RAGLINE_WEBHOOK_GITHUB_SCHEME", "github");
        values.put("RAGLINE_WEBHOOK_GITHUB_SECRET", SECRET);
        values.put("RAGLINE_API_TOKENS", "an-api-token-webhooks-do-not-need");
        values.put("RAGLINE_HTTP_TLS_CERT", certificate.certPem().toString());
        values.put("RAGLINE_HTTP_TLS_KEY", certificate.keyPem().toString());
        Env env = new Env(values);
        HttpSettings http = HttpSettings.from(env, HttpSettings.DEFAULT_HOST);
        WebhookSettings settings = WebhookSettings.from(env, 0);
        env.validate();
        String body = "{\"action\":\"opened\",\"number\":7}";
        String signature = WebhookSigner.github(Secret.of(SECRET), body.getBytes(StandardCharsets.UTF_8));

        try (WorkerRuntime runtime = WorkerRuntime.start("webhook-tls-it", 0, env)) {
            WebhookServer server = runtime.manage(WebhookServer.start(runtime, settings, http));
            String path = "://localhost:" + server.port() + "/webhooks/github";
            String[] headers = {
                "-H", "Content-Type: application/json",
                "-H", "X-GitHub-Event: issues",
                "-H", "X-GitHub-Delivery: tls-1",
                "-H", "X-Hub-Signature-256: " + signature
            };

            String https = curl(headers, "--cacert", ca.caPem().toString(), "https" + path, "-d", body);
            String plain = curl(headers, "http" + path, "-d", body);

            assertThat(https).startsWith("200 ").endsWith("{\"status\":\"stored\"}");
            assertThat(plain).as("plain HTTP to the HTTPS port").doesNotStartWith("200");
            assertThat(db.queryValue("select count(*) from claude_events where delivery_id = 'tls-1'"))
                    .isEqualTo(1L);
        }
    }

    /** {@code curl -s}: the status, a space and the body; or {@code curl exit N} when it failed. */
    private static String curl(String[] headers, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-s", "--max-time", "30", "-w", "%{http_code} "));
        command.addAll(List.of(headers));
        command.addAll(List.of(args));
        // -w writes after the body: put it first by writing the body to stdout after the code.
        command.addAll(List.of("-o", "/dev/stderr"));
        Process p = new ProcessBuilder(command).start();
        String code = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String answer = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(40, TimeUnit.SECONDS)).isTrue();
        return p.exitValue() == 0 ? code + answer : "curl exit " + p.exitValue();
    }
}
