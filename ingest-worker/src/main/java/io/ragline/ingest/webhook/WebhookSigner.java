package io.ragline.ingest.webhook;

import io.ragline.core.config.Secret;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Signs a body the way each scheme's sender does, for clients of Ragline's own receiver: the demo,
 * the benchmark, and tests that exercise the HTTP path (the verifiers themselves are tested
 * against independently computed signatures, never against this class).
 */
public final class WebhookSigner {
    private WebhookSigner() {}

    /** The {@code webhook-signature} value ({@code v1,<base64>}) for a {@code whsec_} secret. */
    public static String standard(Secret secret, String id, long timestamp, byte[] body) {
        byte[] mac = new HmacSha256(StandardWebhookVerifier.key(secret)).sign(id + "." + timestamp + ".", body);
        return "v1," + Base64.getEncoder().encodeToString(mac);
    }

    /** The {@code X-Hub-Signature-256} value ({@code sha256=<hex>}). */
    public static String github(Secret secret, byte[] body) {
        return "sha256="
                + HexFormat.of().formatHex(HmacSha256.ofUtf8(secret.reveal()).sign("", body));
    }

    /** The {@code Stripe-Signature} value ({@code t=<seconds>,v1=<hex>}). */
    public static String stripe(Secret secret, long timestamp, byte[] body) {
        byte[] mac = HmacSha256.ofUtf8(secret.reveal()).sign(timestamp + ".", body);
        return "t=" + timestamp + ",v1=" + HexFormat.of().formatHex(mac);
    }
}
