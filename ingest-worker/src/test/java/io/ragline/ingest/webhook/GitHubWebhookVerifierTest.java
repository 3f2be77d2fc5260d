package io.ragline.ingest.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.Secret;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * GitHub's scheme against the example in GitHub's documentation ("Validating webhook
 * deliveries"): secret {@code It's a Secret to Everybody}, payload {@code Hello, World!}.
 */
class GitHubWebhookVerifierTest {
    static final String SECRET = "It's a Secret to Everybody";
    static final byte[] BODY = "Hello, World!".getBytes(StandardCharsets.UTF_8);
    static final String SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    static GitHubWebhookVerifier verifier(String... secrets) {
        return new GitHubWebhookVerifier(
                java.util.Arrays.stream(secrets).map(Secret::of).toList());
    }

    @Test
    void theDocumentedExampleVerifiesAndYieldsDeliveryAndEventHeaders() {
        var headers = Headers.of(
                "X-Hub-Signature-256", SIGNATURE, "X-GitHub-Delivery", "72d3162e-cc78", "X-GitHub-Event", "push");

        WebhookVerifier.Verified v = verifier(SECRET).verify(headers, BODY);

        assertThat(v.deliveryId()).isEqualTo("72d3162e-cc78");
        assertThat(v.eventType()).isEqualTo("push");
        assertThat(v.replayableBody())
                .as("delivery id and event type are not signed")
                .isTrue();
    }

    @Test
    void upperCaseHexIsTheSameSignature() {
        var headers = Headers.of(
                "x-hub-signature-256", "sha256=" + SIGNATURE.substring(7).toUpperCase());

        assertThat(verifier(SECRET).verify(headers, BODY)).isNotNull();
    }

    @Test
    void duringRotationEitherConfiguredSecretIsAccepted() {
        assertThat(verifier("the new one", SECRET).verify(Headers.of("X-Hub-Signature-256", SIGNATURE), BODY))
                .isNotNull();
    }

    @Test
    void aWrongSecretOrChangedBodyIsRefused() {
        assertThatThrownBy(() -> verifier("It's a secret to everybody")
                        .verify(Headers.of("X-Hub-Signature-256", SIGNATURE), BODY))
                .hasMessageContaining("does not match");
        assertThatThrownBy(() -> verifier(SECRET)
                        .verify(Headers.of("X-Hub-Signature-256", SIGNATURE), "Hello, World?".getBytes()))
                .hasMessageContaining("does not match");
    }

    @Test
    void malformedOrMissingSignaturesAreRefusedWith401() {
        List<java.util.function.Function<String, String>> bad = List.of(
                Headers.of(),
                Headers.of("X-Hub-Signature", "sha1=0123"),
                Headers.of("X-Hub-Signature-256", SIGNATURE.substring(7)),
                Headers.of("X-Hub-Signature-256", "sha256=" + "zz".repeat(32)),
                Headers.of("X-Hub-Signature-256", SIGNATURE.substring(0, SIGNATURE.length() - 2)));
        for (var h : bad) {
            assertThatThrownBy(() -> verifier(SECRET).verify(h, BODY))
                    .isInstanceOf(WebhookRejection.class)
                    .extracting(e -> ((WebhookRejection) e).status())
                    .isEqualTo(401);
        }
    }
}
