package io.ragline.ingest.webhook;

import java.util.Locale;

/**
 * How a source signs its webhooks, chosen per source with {@code RAGLINE_WEBHOOK_<SOURCE>_SCHEME}.
 * Each scheme fixes where the delivery id and the event type come from.
 */
public enum Scheme {
    /** Standard Webhooks: {@code webhook-id}, {@code webhook-timestamp}, {@code webhook-signature}. */
    STANDARD,
    /** GitHub: {@code X-Hub-Signature-256}, {@code X-GitHub-Delivery}, {@code X-GitHub-Event}. */
    GITHUB,
    /** Stripe: {@code Stripe-Signature: t=...,v1=...}; delivery id and type from the event JSON. */
    STRIPE;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
