package io.ragline.ingest.webhook;

import io.ragline.core.config.Secret;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

/** A sender of webhooks over real HTTP to the receiver under test. */
final class WebhookClient {
    static final String STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    static final String GITHUB_SECRET = "It's a Secret to Everybody";
    static final String STRIPE_SECRET = "whsec_stripe_test_secret";

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final int port;

    WebhookClient(int port) {
        this.port = port;
    }

    HttpRequest.Builder request(String source) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/" + source))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header("User-Agent", "ragline-test");
    }

    /** A Standard Webhooks delivery signed now (or {@code age} ago). */
    HttpRequest standard(String source, String id, String body, Duration age) {
        long ts = Instant.now().minus(age).getEpochSecond();
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return request(source)
                .header("webhook-id", id)
                .header("webhook-timestamp", Long.toString(ts))
                .header("webhook-signature", WebhookSigner.standard(Secret.of(STANDARD_SECRET), id, ts, bytes))
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .build();
    }

    HttpRequest standard(String source, String id, String body) {
        return standard(source, id, body, Duration.ZERO);
    }

    HttpRequest github(String delivery, String event, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return request("github")
                .header("X-GitHub-Delivery", delivery)
                .header("X-GitHub-Event", event)
                .header("X-Hub-Signature-256", WebhookSigner.github(Secret.of(GITHUB_SECRET), bytes))
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .build();
    }

    HttpRequest stripe(String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        long t = Instant.now().getEpochSecond();
        return request("stripe")
                .header("Stripe-Signature", WebhookSigner.stripe(Secret.of(STRIPE_SECRET), t, bytes))
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .build();
    }

    HttpResponse<String> send(HttpRequest request) throws Exception {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
