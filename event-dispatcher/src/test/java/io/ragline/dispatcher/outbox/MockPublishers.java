package io.ragline.dispatcher.outbox;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** An outbox publisher over Kafka's MockProducers, for unit tests of how the publisher answers the broker. */
final class MockPublishers {
    private MockPublishers() {}

    /**
     * A publisher of schema id {@code ragline-outbox-s} with {@code producers} producers, each a
     * MockProducer (completing sends at once) put in {@code made} by its transactional id: slot 0 is
     * the schema's id, slot 1 the same with {@code -1}.
     */
    static OutboxPublisher publisher(
            Map<String, MockProducer<byte[], byte[]>> made, int producers, MeterRegistry registry) {
        return new OutboxPublisher(
                id -> {
                    MockProducer<byte[], byte[]> p =
                            new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
                    made.put(id, p);
                    return p;
                },
                "ragline-outbox-s",
                producers,
                "",
                new OutboxMetrics(registry));
    }
}
