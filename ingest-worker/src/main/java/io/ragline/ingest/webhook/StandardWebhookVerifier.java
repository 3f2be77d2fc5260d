package io.ragline.ingest.webhook;

import io.ragline.core.config.Secret;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;

/**
 * Standard Webhooks (standardwebhooks.com): HMAC-SHA256 over {@code id.timestamp.body} with the
 * base64 key after {@code whsec_}; {@code webhook-signature} holds space-separated
 * {@code v1,<base64>} entries, any of which may match.
 */
final class StandardWebhookVerifier implements WebhookVerifier {
    static final String ID = "webhook-id";
    static final String TIMESTAMP = "webhook-timestamp";
    static final String SIGNATURE = "webhook-signature";
    static final String PREFIX = "whsec_";

    private final List<HmacSha256> keys;
    private final Clock clock;

    StandardWebhookVerifier(List<Secret> secrets, Clock clock) {
        this.keys = secrets.stream().map(s -> new HmacSha256(key(s))).toList();
        this.clock = clock;
    }

    /** The key bytes of a {@code whsec_<base64>} secret; IllegalArgumentException when it is not one. */
    static byte[] key(Secret secret) {
        String s = secret.reveal();
        if (!s.startsWith(PREFIX)) {
            throw new IllegalArgumentException("must start with " + PREFIX);
        }
        byte[] key = Base64.getDecoder().decode(s.substring(PREFIX.length()));
        if (key.length == 0) {
            throw new IllegalArgumentException("has no key after " + PREFIX);
        }
        return key;
    }

    @Override
    public Verified verify(Function<String, String> header, byte[] body) {
        String id = header.apply(ID);
        String timestamp = header.apply(TIMESTAMP);
        String signature = header.apply(SIGNATURE);
        if (id == null || id.isBlank() || timestamp == null || signature == null) {
            throw WebhookRejection.unauthorized("missing webhook-id, webhook-timestamp or webhook-signature header");
        }
        long seconds = WebhookVerifier.checkTimestamp(timestamp, TIMESTAMP, clock);
        String signed = id + "." + seconds + ".";
        List<byte[]> given = signatures(signature);
        for (HmacSha256 key : keys) {
            byte[] expected = key.sign(signed, body);
            for (byte[] candidate : given) {
                if (HmacSha256.equal(expected, candidate)) {
                    return new Verified(id, null);
                }
            }
        }
        throw WebhookRejection.unauthorized("no webhook-signature matches");
    }

    /** The decoded {@code v1} entries; other versions and undecodable entries are ignored. */
    private static List<byte[]> signatures(String header) {
        List<byte[]> out = new java.util.ArrayList<>(2);
        for (String entry : header.strip().split(" +")) {
            if (!entry.startsWith("v1,")) {
                continue;
            }
            try {
                out.add(Base64.getDecoder().decode(entry.substring(3)));
            } catch (IllegalArgumentException e) {
                // not base64: cannot match
            }
        }
        if (out.isEmpty()) {
            throw WebhookRejection.unauthorized("webhook-signature has no v1,<base64> entry");
        }
        return out;
    }

    @Override
    public List<String> storedHeaders() {
        return List.of(ID, TIMESTAMP);
    }
}
