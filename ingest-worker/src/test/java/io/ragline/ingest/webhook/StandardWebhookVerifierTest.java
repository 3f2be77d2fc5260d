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
 * The Standard Webhooks scheme against the specification's published test vector (the reference
 * libraries' {@code testSignFunctionWorks}: secret, id, timestamp and body below sign to
 * {@code v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=}).
 */
class StandardWebhookVerifierTest {
    static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    static final String ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    static final long TIMESTAMP = 1614265330;
    static final byte[] BODY = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);
    static final String SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    static final String OTHER_SECRET = "whsec_" + java.util.Base64.getEncoder().encodeToString(new byte[] {1, 2, 3, 4});

    static StandardWebhookVerifier verifier(long nowSeconds, String... secrets) {
        return new StandardWebhookVerifier(
                java.util.Arrays.stream(secrets).map(Secret::of).toList(),
                Clock.fixed(Instant.ofEpochSecond(nowSeconds), ZoneOffset.UTC));
    }

    static java.util.function.Function<String, String> headers(long timestamp, String signature) {
        return Headers.of(
                "webhook-id", ID, "webhook-timestamp", Long.toString(timestamp), "webhook-signature", signature);
    }

    @Test
    void thePublishedTestVectorVerifiesAndYieldsTheWebhookIdAsDeliveryId() {
        WebhookVerifier.Verified v = verifier(TIMESTAMP, SECRET).verify(headers(TIMESTAMP, SIGNATURE), BODY);

        assertThat(v.deliveryId()).isEqualTo(ID);
        assertThat(v.eventType()).isNull();
    }

    @Test
    void headerNamesAreMatchedWithoutRegardToCase() {
        var upper = Headers.of(
                "Webhook-Id", ID, "WEBHOOK-TIMESTAMP", Long.toString(TIMESTAMP), "Webhook-Signature", SIGNATURE);

        assertThat(verifier(TIMESTAMP, SECRET).verify(upper, BODY).deliveryId()).isEqualTo(ID);
    }

    @Test
    void anyOfSeveralSpaceSeparatedSignaturesMayMatch() {
        String several = "v1,bm9wZQ== v2,abc " + SIGNATURE;

        assertThat(verifier(TIMESTAMP, SECRET)
                        .verify(headers(TIMESTAMP, several), BODY)
                        .deliveryId())
                .isEqualTo(ID);
    }

    @Test
    void duringRotationEitherConfiguredSecretIsAccepted() {
        assertThat(verifier(TIMESTAMP, OTHER_SECRET, SECRET)
                        .verify(headers(TIMESTAMP, SIGNATURE), BODY)
                        .deliveryId())
                .isEqualTo(ID);
    }

    @Test
    void aSignatureByASecretNoLongerConfiguredIsRefused() {
        assertThatThrownBy(() -> verifier(TIMESTAMP, OTHER_SECRET).verify(headers(TIMESTAMP, SIGNATURE), BODY))
                .isInstanceOf(WebhookRejection.class)
                .hasMessageContaining("no webhook-signature matches")
                .extracting(e -> ((WebhookRejection) e).status())
                .isEqualTo(401);
    }

    @Test
    void aChangedBodyOrIdDoesNotVerify() {
        byte[] changed = "{\"test\": 2432232315}".getBytes(StandardCharsets.UTF_8);
        var otherId = Headers.of(
                "webhook-id", ID + "x", "webhook-timestamp", Long.toString(TIMESTAMP), "webhook-signature", SIGNATURE);

        assertThatThrownBy(() -> verifier(TIMESTAMP, SECRET).verify(headers(TIMESTAMP, SIGNATURE), changed))
                .isInstanceOf(WebhookRejection.class);
        assertThatThrownBy(() -> verifier(TIMESTAMP, SECRET).verify(otherId, BODY))
                .isInstanceOf(WebhookRejection.class);
    }

    @Test
    void timestampsWithinFiveMinutesEitherWayAreAcceptedAndBeyondAreRefused() {
        assertThat(verifier(TIMESTAMP + 300, SECRET).verify(headers(TIMESTAMP, SIGNATURE), BODY))
                .isNotNull();
        assertThat(verifier(TIMESTAMP - 300, SECRET).verify(headers(TIMESTAMP, SIGNATURE), BODY))
                .isNotNull();
        assertThatThrownBy(() -> verifier(TIMESTAMP + 301, SECRET).verify(headers(TIMESTAMP, SIGNATURE), BODY))
                .hasMessageContaining("more than 5 minutes");
        assertThatThrownBy(() -> verifier(TIMESTAMP - 301, SECRET).verify(headers(TIMESTAMP, SIGNATURE), BODY))
                .hasMessageContaining("more than 5 minutes");
    }

    @Test
    void malformedOrMissingHeadersAreRefusedWith401() {
        StandardWebhookVerifier v = verifier(TIMESTAMP, SECRET);
        List<java.util.function.Function<String, String>> bad = List.of(
                Headers.of(),
                Headers.of("webhook-id", ID, "webhook-timestamp", "" + TIMESTAMP),
                Headers.of("webhook-id", ID, "webhook-timestamp", "yesterday", "webhook-signature", SIGNATURE),
                headers(TIMESTAMP, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
                headers(TIMESTAMP, "v1,not base64!"),
                headers(TIMESTAMP, "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
        for (var h : bad) {
            assertThatThrownBy(() -> v.verify(h, BODY))
                    .isInstanceOf(WebhookRejection.class)
                    .extracting(e -> ((WebhookRejection) e).status())
                    .isEqualTo(401);
        }
    }

    @Test
    void aSecretMustBeWhsecFollowedByBase64() {
        assertThat(StandardWebhookVerifier.key(Secret.of(SECRET))).hasSize(24);
        assertThatThrownBy(() -> StandardWebhookVerifier.key(Secret.of("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StandardWebhookVerifier.key(Secret.of("whsec_not*base64")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StandardWebhookVerifier.key(Secret.of("whsec_")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
