package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** Which transactional ids the relay's producers initialise, and when (fencing and abort rules). */
class OutboxProducersTest {
    private final List<String> initialised = new ArrayList<>();
    private final Map<String, MockProducer<byte[], byte[]>> made = new HashMap<>();

    private OutboxProducers family(int producers) {
        return new OutboxProducers(
                id -> {
                    MockProducer<byte[], byte[]> p =
                            new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
                                @Override
                                public void initTransactions() {
                                    super.initTransactions();
                                    initialised.add(id);
                                }
                            };
                    made.put(id, p);
                    return p;
                },
                "ragline-outbox-s",
                producers);
    }

    @Test
    void aNewLeadershipInitialisesEveryIdOfTheFamilyWhateverItUses() {
        for (int producers = 1; producers <= 4; producers++) {
            initialised.clear();
            family(producers).get(0);
            assertThat(initialised)
                    .as("%d producers", producers)
                    .containsExactlyInAnyOrder(
                            "ragline-outbox-s", "ragline-outbox-s-1", "ragline-outbox-s-2", "ragline-outbox-s-3");
        }
    }

    @Test
    void everySlotInUseIsStartedAndTheOthersOnlyFenced() {
        OutboxProducers producers = family(3);
        producers.get(2);

        assertThat(producers.current(0)).isNotNull();
        assertThat(producers.current(1)).isNotNull();
        assertThat(producers.current(2)).isNotNull();
        assertThat(producers.current(3))
                .as("not used: initialised to fence, then closed")
                .isNull();
        assertThat(made.get("ragline-outbox-s-3").closed()).isTrue();
        assertThat(made.get("ragline-outbox-s-2").closed()).isFalse();
    }

    @Test
    void aDiscardedSecondProducerIsStartedAgainWhenTheFirstIsAskedFor() {
        OutboxProducers producers = family(2);
        producers.get(0);
        producers.get(1);
        initialised.clear();

        producers.discard(1); // its commit timed out: its transaction may still be open on the broker
        producers.get(0); // the next batch's turn is slot 0

        assertThat(initialised)
                .as("id -1 initialised again at once, which aborts what it left open")
                .containsExactly("ragline-outbox-s-1");
        assertThat(producers.current(1)).isNotNull();
    }

    @Test
    void anOpenProducerIsNotInitialisedAgain() {
        OutboxProducers producers = family(2);
        producers.get(0);
        initialised.clear();

        producers.get(1);
        producers.get(0);

        assertThat(initialised).isEmpty();
    }
}
