package io.ragline.ingest.routing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * {@code ragline_routing_events_total{source, action, outcome}}: claude_events messages the router
 * decided, by event source, action of the matching rule ({@code none} when no rule matched) and
 * outcome: {@code processed}, {@code ignored}, {@code failed}, {@code duplicate} (a redelivery of
 * an event already routed), {@code missing} (its claude_events row no longer exists). Counted when
 * the decision is made in the batch transaction: a batch retried after a transient failure may
 * count its events again.
 */
final class RoutingMetrics {
    static final String NONE = "none";

    private final MeterRegistry registry;
    private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();

    RoutingMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void routed(String source, String action, String outcome) {
        counters.computeIfAbsent(
                        source + '|' + action + '|' + outcome,
                        k -> Counter.builder("ragline.routing.events")
                                .description("claude_events routed, by source, action and outcome")
                                .tag("source", source)
                                .tag("action", action)
                                .tag("outcome", outcome)
                                .register(registry))
                .increment();
    }
}
