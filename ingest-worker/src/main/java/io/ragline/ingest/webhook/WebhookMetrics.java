package io.ragline.ingest.webhook;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Webhook meters on the process registry ({@code /metrics}): requests per source and status code
 * ({@code ragline_webhook_requests_total}), the time to answer per source
 * ({@code ragline_webhook_request_duration_seconds}, a histogram), and duplicates per source.
 * Requests to an unconfigured source are counted under {@value #UNKNOWN_SOURCE}, so a scan of
 * random paths cannot create unbounded series.
 */
public final class WebhookMetrics {
    /** Not a valid source name (those start with a letter or digit). */
    public static final String UNKNOWN_SOURCE = "_unknown";

    private final MeterRegistry registry;
    private final ConcurrentMap<String, Counter> requests = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Timer> durations = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> duplicates = new ConcurrentHashMap<>();

    public WebhookMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** One answered request. */
    public void request(String source, int status, long nanos) {
        requests.computeIfAbsent(
                        source + "|" + status,
                        k -> Counter.builder("ragline.webhook.requests")
                                .description("Webhook requests answered, by source and HTTP status")
                                .tag("source", source)
                                .tag("status", Integer.toString(status))
                                .register(registry))
                .increment();
        durations
                .computeIfAbsent(
                        source,
                        k -> Timer.builder("ragline.webhook.request.duration")
                                .description("Time from reading a webhook request to answering it, by source")
                                .tag("source", source)
                                .publishPercentileHistogram()
                                .register(registry))
                .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** A delivery that was already stored (answered 2xx, nothing written). */
    public void duplicate(String source) {
        duplicates
                .computeIfAbsent(
                        source,
                        k -> Counter.builder("ragline.webhook.duplicates")
                                .description("Webhook deliveries received again and not stored twice")
                                .tag("source", source)
                                .register(registry))
                .increment();
    }
}
