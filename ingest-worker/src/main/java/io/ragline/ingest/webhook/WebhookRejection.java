package io.ragline.ingest.webhook;

/**
 * A request refused with a 4xx or 5xx status and a short reason for the sender. The reason goes
 * into the response body and the debug log, so it never holds a secret, a signature or payload.
 */
public final class WebhookRejection extends RuntimeException {
    private final int status;

    public WebhookRejection(int status, String reason) {
        // No stack trace: rejections are ordinary outcomes, and cheap ones under load.
        super(reason, null, false, false);
        this.status = status;
    }

    public static WebhookRejection unauthorized(String reason) {
        return new WebhookRejection(401, reason);
    }

    public static WebhookRejection badRequest(String reason) {
        return new WebhookRejection(400, reason);
    }

    public int status() {
        return status;
    }
}
