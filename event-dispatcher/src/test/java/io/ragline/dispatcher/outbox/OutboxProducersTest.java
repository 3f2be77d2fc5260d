package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** Which transactional ids the relay's producers initialise, and when (fencing and abort rules). */
class OutboxProducersTest {
    private final List<String> initialised = new ArrayList<>();

    private OutboxProducers family(int producers) {
        return new OutboxProducers(
                id -> new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer()) {
                    @Override
                    public void initTransactions() {
                        super.initTransactions();
                        initialised.add(id);
                    }
                },
                "ragline-outbox-s",
                producers);
    }

    @Test
    void aNewLeadershipInitialisesEveryIdOfTheFamilyWhateverItUses() {
        family(1).get(0);
        assertThat(initialised).containsExactlyInAnyOrder("ragline-outbox-s", "ragline-outbox-s-1");

        initialised.clear();
        family(2).get(0);
        assertThat(initialised).containsExactlyInAnyOrder("ragline-outbox-s", "ragline-outbox-s-1");
    }

    @Test
    void aDiscardedSecondProducerIsStartedAgainWhenTheFirstIsAskedFor() {
        OutboxProducers producers = family(2);
        producers.get(0);
        producers.get(1);
        initialised.clear();

        producers.discard(1); // its commit timed out: its transaction may still be open on the broker
        producers.get(0); // the next drain begins on slot 0

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
