package io.ragline.core.kafka;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a process builds its Kafka clients: configured by {@link KafkaClients}, their client
 * meters bound to the process's registry (lag per partition appears once partitions are assigned).
 * It owns the process's shared producer and every meter binding, and closes them (the producer
 * within half the shutdown bound) after what uses them has stopped.
 */
public final class MeteredKafkaClients implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MeteredKafkaClients.class);
    /** How often the client meters are refreshed. */
    private static final Duration REFRESH = Duration.ofSeconds(10);

    private final String bootstrap;
    private final KafkaSettings settings;
    private final String processName;
    private final MeterRegistry registry;
    private final Duration producerCloseTimeout;
    private final ScheduledExecutorService refresh = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kafka-metrics-refresh");
        t.setDaemon(true);
        return t;
    });
    private final List<KafkaClientMetrics> bindings = new ArrayList<>();
    private KafkaProducer<byte[], byte[]> producer;

    public MeteredKafkaClients(
            String bootstrap,
            KafkaSettings settings,
            String processName,
            MeterRegistry registry,
            Duration producerCloseTimeout) {
        this.bootstrap = bootstrap;
        this.settings = settings;
        this.processName = processName;
        this.registry = registry;
        this.producerCloseTimeout = producerCloseTimeout;
    }

    /**
     * A consumer of {@code groupId} ({@link KafkaClients#consumer}) with its meters bound; batches
     * of at most {@code maxPollRecords}, or {@code RAGLINE_MAX_POLL_RECORDS} when it is 0; a static
     * member ({@code <RAGLINE_KAFKA_GROUP_INSTANCE_ID>-<clientId>}) unless that is off. The caller's
     * poll loop owns and closes the consumer.
     */
    public KafkaConsumer<byte[], byte[]> consumer(String groupId, String clientId, int maxPollRecords) {
        int max = maxPollRecords > 0 ? maxPollRecords : settings.maxPollRecords();
        KafkaConsumer<byte[], byte[]> consumer = KafkaClients.consumer(
                bootstrap, settings, groupId, clientId, max, settings.groupInstanceIdOf(clientId));
        bind(new KafkaClientMetrics(consumer, Tags.empty(), refresh, REFRESH));
        return consumer;
    }

    /** The process's producer (idempotent, acks=all), created on first use, closed with this. */
    public synchronized Producer<byte[], byte[]> producer() {
        if (producer == null) {
            producer = KafkaClients.producer(bootstrap, settings, processName);
            bind(new KafkaClientMetrics(producer, Tags.empty(), refresh, REFRESH));
        }
        return producer;
    }

    private synchronized void bind(KafkaClientMetrics metrics) {
        metrics.bindTo(registry);
        bindings.add(metrics);
    }

    @Override
    public synchronized void close() {
        if (producer != null) {
            try {
                producer.close(producerCloseTimeout);
            } catch (RuntimeException e) {
                log.warn("closing the producer failed: {}", e.toString());
            }
        }
        bindings.forEach(KafkaClientMetrics::close);
        refresh.shutdownNow();
    }
}
