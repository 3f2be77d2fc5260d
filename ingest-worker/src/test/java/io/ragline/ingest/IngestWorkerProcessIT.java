package io.ragline.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.config.Secret;
import io.ragline.ingest.webhook.WebhookSigner;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code IngestWorker.main} as a real process: the wiring serves webhooks; bad webhook config exits 2. */
class IngestWorkerProcessIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final String SECRET = "whsec_c2VjcmV0LW9mLXRoZS1wcm9jZXNzLXRlc3Q=";

    @Test
    void theIngestWorkerServesSignedWebhooksAndExitsZeroOnSigterm() throws Exception {
        int httpPort = freePort();
        int adminPort = freePort();
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", String.valueOf(adminPort));
        env.put("RAGLINE_HTTP_PORT", String.valueOf(httpPort));
        env.put("RAGLINE_WEBHOOK_BILLING_SCHEME", "standard");
        env.put("RAGLINE_WEBHOOK_BILLING_SECRET", SECRET);
        JavaProcess worker = JavaProcess.start(List.of(), IngestWorker.class.getName(), env);
        HttpClient http = HttpClient.newHttpClient();
        byte[] body = "{\"type\":\"invoice.paid\"}".getBytes(StandardCharsets.UTF_8);
        long ts = Instant.now().getEpochSecond();
        HttpRequest webhook = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/webhooks/billing"))
                .header("webhook-id", "msg_process_1")
                .header("webhook-timestamp", Long.toString(ts))
                .header("webhook-signature", WebhookSigner.standard(Secret.of(SECRET), "msg_process_1", ts, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();

        await().atMost(Duration.ofSeconds(60))
                .ignoreExceptions()
                .untilAsserted(() -> assertThat(http.send(webhook, HttpResponse.BodyHandlers.ofString())
                                .statusCode())
                        .isEqualTo(200));
        worker.terminate();

        assertThat(worker.waitFor(30)).isZero();
        assertThat(db.queryValue("select count(*) from claude_events where source = 'billing'"))
                .isEqualTo(1L);
        assertThat(worker.stdout() + worker.stderr())
                .contains("webhooks on http://0.0.0.0:" + httpPort + ": POST /webhooks/{source}")
                .doesNotContain("c2VjcmV0LW9mLXRoZS1wcm9jZXNzLXRlc3Q");
    }

    @Test
    void badWebhookConfigurationStopsStartUpNamingEveryProblemWithoutSecrets() throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_WEBHOOK_A_SCHEME", "github");
        env.put("RAGLINE_WEBHOOK_B_SCHEME", "gitlab");
        env.put("RAGLINE_WEBHOOK_B_SECRET", "b-secret-value");
        env.put("RAGLINE_WEBHOOK_C_SCHEME", "standard");
        env.put("RAGLINE_WEBHOOK_C_SECRET", "c-secret-value");
        JavaProcess worker = JavaProcess.start(List.of(), IngestWorker.class.getName(), env);

        assertThat(worker.waitFor(60)).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("invalid configuration (3 problems)")
                .contains("RAGLINE_WEBHOOK_A_SECRET is not set")
                .contains("RAGLINE_WEBHOOK_B_SCHEME='gitlab'")
                .contains("RAGLINE_WEBHOOK_C_SECRET: secret 1 of 1 is not whsec_")
                .doesNotContain("secret-value");
        assertThat(worker.stdout()).doesNotContain("secret-value");
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
