package io.ragline.ingest.webhook;

import io.ragline.core.config.Secret;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * Checks a webhook's signature on the raw body bytes, before anything parses them, against every
 * secret configured for its source (rotation), comparing in constant time. A failure is a
 * {@link WebhookRejection} with status 401. On success it hands back what the scheme's headers say
 * about the delivery (its id and event type), when they say it.
 */
public interface WebhookVerifier {
    /** How far a signed timestamp may be from this server's clock, either way. */
    Duration TOLERANCE = Duration.ofMinutes(5);

    /**
     * @param header the request's header value by name (case-insensitive), or null
     * @throws WebhookRejection 401 when the signature is missing, malformed, stale or wrong
     */
    Verified verify(Function<String, String> header, byte[] body);

    /** Request headers worth keeping with the event (never a signature), lower-case. */
    List<String> storedHeaders();

    /**
     * What the verified headers say: the delivery id and the event type, each null when the scheme
     * takes it from the payload instead.
     *
     * @param replayableBody the signature covers neither a timestamp nor the delivery id, so whoever
     *     holds one signed body can send it again under a new delivery id: the body itself then
     *     identifies the delivery too (see {@link WebhookStore})
     */
    record Verified(String deliveryId, String eventType, boolean replayableBody) {
        Verified(String deliveryId, String eventType) {
            this(deliveryId, eventType, false);
        }
    }

    static WebhookVerifier of(Scheme scheme, List<Secret> secrets, Clock clock) {
        return switch (scheme) {
            case STANDARD -> new StandardWebhookVerifier(secrets, clock);
            case GITHUB -> new GitHubWebhookVerifier(secrets);
            case STRIPE -> new StripeWebhookVerifier(secrets, clock);
        };
    }

    /** Seconds since the epoch within {@link #TOLERANCE} of {@code clock}, else a 401 naming the header. */
    static long checkTimestamp(String value, String name, Clock clock) {
        long seconds;
        try {
            seconds = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw WebhookRejection.unauthorized(name + " is not a Unix time in seconds");
        }
        long now = clock.instant().getEpochSecond();
        if (Math.abs(now - seconds) > TOLERANCE.toSeconds()) {
            throw WebhookRejection.unauthorized(name + " is more than 5 minutes away from this server's clock");
        }
        return seconds;
    }
}
