package io.ragline.ingest.webhook;

import io.ragline.core.config.Secret;
import java.util.List;
import java.util.function.Function;

/**
 * GitHub: {@code X-Hub-Signature-256: sha256=<hex>}, HMAC-SHA256 of the body with the secret's
 * UTF-8 bytes. GitHub signs no timestamp, so there is no replay window to check, and signs neither
 * {@code X-GitHub-Delivery} nor {@code X-GitHub-Event}: a replay under the same delivery id is a
 * duplicate, and one under a new id is caught by the body, which the result marks
 * {@linkplain Verified#replayableBody() replayable}.
 */
final class GitHubWebhookVerifier implements WebhookVerifier {
    static final String SIGNATURE = "x-hub-signature-256";
    static final String DELIVERY = "x-github-delivery";
    static final String EVENT = "x-github-event";

    private final List<HmacSha256> keys;

    GitHubWebhookVerifier(List<Secret> secrets) {
        this.keys = secrets.stream().map(s -> HmacSha256.ofUtf8(s.reveal())).toList();
    }

    @Override
    public Verified verify(Function<String, String> header, byte[] body) {
        String signature = header.apply(SIGNATURE);
        if (signature == null) {
            throw WebhookRejection.unauthorized("missing X-Hub-Signature-256 header");
        }
        byte[] given = signature.startsWith("sha256=")
                ? HmacSha256.hex(signature.substring(7).strip(), 32)
                : null;
        if (given == null) {
            throw WebhookRejection.unauthorized("X-Hub-Signature-256 is not sha256=<64 hex digits>");
        }
        for (HmacSha256 key : keys) {
            if (HmacSha256.equal(key.sign("", body), given)) {
                return new Verified(header.apply(DELIVERY), header.apply(EVENT), true);
            }
        }
        throw WebhookRejection.unauthorized("X-Hub-Signature-256 does not match");
    }

    @Override
    public List<String> storedHeaders() {
        return List.of(
                DELIVERY,
                EVENT,
                "x-github-hook-id",
                "x-github-hook-installation-target-type",
                "x-github-hook-installation-target-id");
    }
}
