package io.ragline.core;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.ConsumerLoop;
import io.ragline.core.consumer.ConsumerMetrics;
import io.ragline.core.consumer.DeadLetters;
import io.ragline.core.consumer.FailureKind;
import io.ragline.core.consumer.FailurePolicy;
import io.ragline.core.consumer.KafkaDeadLetters;
import io.ragline.core.consumer.PostgresBatchSink;
import java.time.Clock;
import java.time.Duration;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the poll loops of a {@link ConsumerBinding} on a runtime: one consumer group per binding,
 * {@code RAGLINE_CONSUMER_THREADS} supervised loops, a Postgres batch sink behind one circuit
 * breaker per binding (only an unavailable database counts against it), dead letters through the
 * process's producer.
 */
final class BindingLoops {
    private static final Logger log = LoggerFactory.getLogger(BindingLoops.class);

    private final WorkerRuntime runtime;
    private final CircuitBreakerRegistry breakers = CircuitBreakerRegistry.ofDefaults();

    BindingLoops(WorkerRuntime runtime, MeterRegistry registry) {
        this.runtime = runtime;
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(registry);
    }

    <T> void start(ConsumerBinding<T> binding) {
        CoreSettings settings = runtime.settings();
        String group = settings.kafka().groupPrefix() + "-" + binding.name();
        runtime.ensureTopics(binding.topics());
        CircuitBreaker breaker = breakers.circuitBreaker("postgres-" + binding.name(), breakerConfig(binding.policy()));
        breaker.getEventPublisher()
                .onStateTransition(
                        e -> log.info("circuit breaker {} {}", e.getCircuitBreakerName(), e.getStateTransition()));
        DeadLetters deadLetters = new KafkaDeadLetters(runtime.producer(), group, Duration.ofSeconds(30));
        ConsumerLoop.Settings loopSettings = ConsumerLoop.Settings.of(
                        settings.kafka().backoffInitial(),
                        settings.kafka().backoffMax(),
                        settings.kafka().maxAttempts())
                .withinShutdown(settings.shutdownTimeout());
        for (int i = 0; i < settings.kafka().consumerThreads(); i++) {
            String clientId = runtime.processName() + "-" + binding.name() + "-" + i;
            KafkaConsumer<byte[], byte[]> consumer =
                    runtime.kafkaClients().consumer(group, clientId, binding.maxPollRecords());
            ConsumerLoop<T> loop = new ConsumerLoop<>(
                    consumer,
                    binding.topics(),
                    binding.decoder(),
                    new PostgresBatchSink<>(runtime.dataSource(), group, binding.writer(), breaker),
                    deadLetters,
                    binding.policy(),
                    loopSettings,
                    Clock.systemUTC(),
                    new ConsumerMetrics(runtime.registry(), clientId),
                    runtime.fatalPathOf(clientId),
                    binding.overlapWrites() ? clientId + "-writer" : null);
            runtime.startLoop(clientId, loop);
        }
        log.info(
                "consuming {} as group {} with {} thread(s), batches of at most {} records{}",
                binding.topics(),
                group,
                settings.kafka().consumerThreads(),
                binding.maxPollRecords() > 0
                        ? binding.maxPollRecords()
                        : settings.kafka().maxPollRecords(),
                binding.overlapWrites() ? ", each written while the next is prepared" : "");
    }

    private CircuitBreakerConfig breakerConfig(FailurePolicy policy) {
        return CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(10)
                .minimumNumberOfCalls(5)
                .failureRateThreshold(50)
                .waitDurationInOpenState(runtime.settings().kafka().breakerOpenFor())
                .permittedNumberOfCallsInHalfOpenState(1)
                // Only an unavailable database counts against it, never a bad record.
                .recordException(t -> policy.classify(t) == FailureKind.TRANSIENT)
                .build();
    }
}
