package io.ragline.ingest.webhook;

import io.ragline.core.config.Secret;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Stripe: {@code Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]}, HMAC-SHA256 of
 * {@code t.body} with the endpoint secret's UTF-8 bytes (the whole {@code whsec_...} string, as
 * Stripe's libraries use it). Several {@code v1} entries may be present (Stripe sends one per
 * active secret while a secret is rolled); other schemes ({@code v0}) are ignored.
 */
final class StripeWebhookVerifier implements WebhookVerifier {
    static final String SIGNATURE = "stripe-signature";

    private final List<HmacSha256> keys;
    private final Clock clock;

    StripeWebhookVerifier(List<Secret> secrets, Clock clock) {
        this.keys = secrets.stream().map(s -> HmacSha256.ofUtf8(s.reveal())).toList();
        this.clock = clock;
    }

    @Override
    public Verified verify(Function<String, String> header, byte[] body) {
        String value = header.apply(SIGNATURE);
        if (value == null) {
            throw WebhookRejection.unauthorized("missing Stripe-Signature header");
        }
        String timestamp = null;
        List<byte[]> given = new ArrayList<>(2);
        for (String item : value.split(",")) {
            int eq = item.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String k = item.substring(0, eq).strip();
            String v = item.substring(eq + 1).strip();
            if (k.equals("t") && timestamp == null) {
                timestamp = v;
            } else if (k.equals("v1")) {
                byte[] bytes = HmacSha256.hex(v, 32);
                if (bytes != null) {
                    given.add(bytes);
                }
            }
        }
        if (timestamp == null || given.isEmpty()) {
            throw WebhookRejection.unauthorized("Stripe-Signature is not t=<seconds>,v1=<64 hex digits>");
        }
        long seconds = WebhookVerifier.checkTimestamp(timestamp, "Stripe-Signature t", clock);
        for (HmacSha256 key : keys) {
            byte[] expected = key.sign(seconds + ".", body);
            for (byte[] candidate : given) {
                if (HmacSha256.equal(expected, candidate)) {
                    return new Verified(null, null);
                }
            }
        }
        throw WebhookRejection.unauthorized("no Stripe-Signature v1 entry matches");
    }

    @Override
    public List<String> storedHeaders() {
        return List.of();
    }
}
