package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.dispatcher.DispatcherSettings;
import io.ragline.testkit.KafkaTopics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A frozen leader with the most producers a dispatcher may use, one batch committed on the first
 * and the next sent on the last but not committed, is fenced by a new leader, whatever the new
 * leader's own setting (which may not use the last id): the open transaction is aborted at once (it does not hold back the
 * partition's last stable offset until its timeout), its commit is refused, and its first producer
 * can send nothing more. Real broker.
 */
class OutboxPublisherFencingIT {
    private static final Duration TRANSACTION_TIMEOUT = Duration.ofSeconds(60);

    @ParameterizedTest(name = "a new leader with {0} producer(s)")
    @ValueSource(ints = {1, 2, 3})
    void aNewLeaderFencesEveryProducerOfAFrozenOneAndAbortsItsOpenTransaction(int newLeadersProducers)
            throws Exception {
        String topic = KafkaTopics.create("fence-both", 1);
        String transactionalId = "fence-both-" + UUID.randomUUID();
        int last = DispatcherSettings.MAX_PRODUCERS - 1;
        OutboxPublisher frozen = publisher(transactionalId, DispatcherSettings.MAX_PRODUCERS);
        OutboxPublisher next = publisher(transactionalId, newLeadersProducers);
        try {
            OutboxPublisher.Staged first = frozen.stage(0, List.of(row(1, topic)), () -> true);
            assertThat(frozen.commitLater(first, () -> true)
                            .get(30, TimeUnit.SECONDS)
                            .committed())
                    .isTrue();
            OutboxPublisher.Staged second = frozen.stage(last, List.of(row(2, topic)), () -> true);
            assertThat(second.sent()).as("sent and acknowledged, not committed").isTrue();

            // The frozen leader's lease ran out; the new one publishes (its producers start first).
            assertThat(next.publish(List.of(row(3, topic)), () -> true).committed())
                    .isTrue();

            assertThatThrownBy(() -> frozen.commitLater(second, () -> true).get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(OutboxPublisher.FencedException.class);
            assertThatThrownBy(() -> frozen.stage(0, List.of(row(4, topic)), () -> true))
                    .isInstanceOf(OutboxPublisher.FencedException.class);
            // Far sooner than the frozen transaction's timeout: it was aborted by the new leader's init.
            assertThat(KafkaTopics.read(topic, 2, Duration.ofSeconds(15)))
                    .extracting(ConsumerRecord::value)
                    .containsExactly("{\"n\":1}", "{\"n\":3}");
            assertThat(KafkaTopics.readAll(topic, Duration.ofSeconds(15)))
                    .as("up to the last stable offset: nothing of the frozen leader's open transaction")
                    .extracting(ConsumerRecord::value)
                    .containsExactly("{\"n\":1}", "{\"n\":3}");
        } finally {
            frozen.close();
            next.close();
        }
    }

    private static OutboxPublisher publisher(String transactionalId, int producers) {
        return new OutboxPublisher(
                OutboxPublisherFencingIT::producer,
                transactionalId,
                producers,
                "",
                new OutboxMetrics(new SimpleMeterRegistry()));
    }

    private static Producer<byte[], byte[]> producer(String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTopics.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) TRANSACTION_TIMEOUT.toMillis());
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static OutboxRow row(long id, String topic) {
        return new OutboxRow(id, topic, "k", "{\"n\":" + id + "}", Map.of(), Instant.now(), 0, System.nanoTime());
    }
}
