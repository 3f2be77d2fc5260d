package io.ragline.cli;

import io.ragline.core.config.Secret;
import io.ragline.ingest.webhook.WebhookSigner;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/** A GitHub webhook, signed as GitHub signs it, sent to a running ingest-worker's webhook port. */
final class GithubWebhook {
    private GithubWebhook() {}

    static HttpResponse<String> send(
            HttpClient http, int port, String secret, String event, String delivery, String body) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/github"))
                        .header("Content-Type", "application/json")
                        .header("X-GitHub-Event", event)
                        .header("X-GitHub-Delivery", delivery)
                        .header("X-Hub-Signature-256", WebhookSigner.github(Secret.of(secret), bytes))
                        .timeout(java.time.Duration.ofSeconds(15))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
