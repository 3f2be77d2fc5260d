package io.ragline.ingest.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.Secret;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Stripe's documented scheme ({@code t=...,v1=...}, HMAC-SHA256 of {@code t.body} with the
 * endpoint secret). The expected signature was computed independently with OpenSSL:
 * {@code printf '%s' '1700000000.{"id":"evt_1","type":"invoice.paid"}' | openssl dgst -sha256 -hmac
 * whsec_stripe_test_secret}.
 */
class StripeWebhookVerifierTest {
    static final String SECRET = "whsec_stripe_test_secret";
    static final long T = 1_700_000_000L;
    static final byte[] BODY = "{\"id\":\"evt_1\",\"type\":\"invoice.paid\"}".getBytes(StandardCharsets.UTF_8);
    static final String V1 = "6e9cacdbdae9b5b4e5bc158ef10146ccd5ce3618eb606cc09bbc37235d154bae";

    static StripeWebhookVerifier verifier(long now, String... secrets) {
        return new StripeWebhookVerifier(
                java.util.Arrays.stream(secrets).map(Secret::of).toList(),
                Clock.fixed(Instant.ofEpochSecond(now), ZoneOffset.UTC));
    }

    static java.util.function.Function<String, String> signature(String value) {
        return Headers.of("Stripe-Signature", value);
    }

    @Test
    void anOpenSslComputedSignatureVerifiesAndLeavesIdAndTypeToThePayload() {
        WebhookVerifier.Verified v = verifier(T, SECRET).verify(signature("t=" + T + ",v1=" + V1), BODY);

        assertThat(v.deliveryId()).isNull();
        assertThat(v.eventType()).isNull();
    }

    @Test
    void severalV1EntriesAndAV0EntryAreAllowedAndAnyV1MayMatch() {
        String header = "t=" + T + ",v1=" + "0".repeat(64) + ",v0=" + "1".repeat(64) + ",v1=" + V1;

        assertThat(verifier(T, SECRET).verify(signature(header), BODY)).isNotNull();
    }

    @Test
    void duringRotationEitherConfiguredSecretIsAccepted() {
        assertThat(verifier(T, "whsec_next", SECRET).verify(signature("t=" + T + ",v1=" + V1), BODY))
                .isNotNull();
    }

    @Test
    void theTimestampIsSignedSoChangingItBreaksTheSignature() {
        assertThatThrownBy(() -> verifier(T, SECRET).verify(signature("t=" + (T + 1) + ",v1=" + V1), BODY))
                .hasMessageContaining("no Stripe-Signature v1 entry matches");
    }

    @Test
    void timestampsOutsideFiveMinutesAreRefused() {
        assertThat(verifier(T + 300, SECRET).verify(signature("t=" + T + ",v1=" + V1), BODY))
                .isNotNull();
        assertThatThrownBy(() -> verifier(T + 301, SECRET).verify(signature("t=" + T + ",v1=" + V1), BODY))
                .hasMessageContaining("more than 5 minutes");
        assertThatThrownBy(() -> verifier(T - 301, SECRET).verify(signature("t=" + T + ",v1=" + V1), BODY))
                .hasMessageContaining("more than 5 minutes");
    }

    @Test
    void malformedOrMissingHeadersAreRefusedWith401() {
        List<java.util.function.Function<String, String>> bad = List.of(
                Headers.of(),
                signature("v1=" + V1),
                signature("t=" + T),
                signature("t=" + T + ",v0=" + V1),
                signature("t=soon,v1=" + V1),
                signature("t=" + T + ",v1=" + V1.substring(2)),
                signature(V1));
        for (var h : bad) {
            assertThatThrownBy(() -> verifier(T, SECRET).verify(h, BODY))
                    .isInstanceOf(WebhookRejection.class)
                    .extracting(e -> ((WebhookRejection) e).status())
                    .isEqualTo(401);
        }
    }
}
