package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.Test;

/**
 * Which producer failures the publisher reports as a fence (the relay then stands by until its
 * lease is renewed in the database) and which as a failed batch (tried again on its own clock's
 * word). Kafka's MockProducer stands in for the broker's answers; the fence itself against a real
 * broker is in OutboxPublisherFencingIT and OverlappedCommitsIT.
 */
class OutboxPublisherFenceTest {
    private static final List<OutboxRow> ROWS =
            List.of(new OutboxRow(1, "t", "k", "{}", Map.of(), Instant.EPOCH, 0, System.nanoTime()));

    /** The producers made, by transactional id: slot 0 is the schema's id, slot 1 the same with -1. */
    private final Map<String, MockProducer<byte[], byte[]>> made = new java.util.HashMap<>();

    private OutboxPublisher publisher(int producers) {
        return MockPublishers.publisher(made, producers, new SimpleMeterRegistry());
    }

    @Test
    void aCommitToldInvalidTxnStateIsAFenceAsUnderTransactionProtocol2() throws Exception {
        OutboxPublisher publisher = publisher(1);
        assertThat(publisher.publish(ROWS, () -> true).committed()).isTrue(); // starts the producers
        made.get("ragline-outbox-s").commitTransactionException = new InvalidTxnStateException("the epoch was bumped");

        assertThatThrownBy(() -> publisher.publish(ROWS, () -> true))
                .isInstanceOf(OutboxPublisher.FencedException.class)
                .hasMessageContaining("fenced by a newer dispatcher");
    }

    @Test
    void aStagedBatchWhoseCommitIsToldInvalidTxnStateFailsItsFutureWithAFence() throws Exception {
        OutboxPublisher publisher = publisher(2);
        OutboxPublisher.Staged staged = publisher.stage(0, ROWS, () -> true);
        assertThat(staged.sent()).isTrue();
        made.get("ragline-outbox-s").commitTransactionException = new InvalidTxnStateException("the epoch was bumped");
        var outcome = publisher.commitLater(staged, () -> true);
        assertThatThrownBy(() -> outcome.get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(OutboxPublisher.FencedException.class);
    }

    @Test
    void aProducerFencedWrappedByAFatalStateIsStillAFence() {
        assertThat(OutboxPublisher.fenced(new KafkaException("fatal", new ProducerFencedException("newer"))))
                .isTrue();
        assertThat(OutboxPublisher.fenced(new KafkaException("the commit failed")))
                .isFalse();
    }
}
