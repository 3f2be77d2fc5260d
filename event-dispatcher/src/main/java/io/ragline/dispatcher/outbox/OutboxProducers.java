package io.ragline.dispatcher.outbox;

import io.ragline.dispatcher.DispatcherSettings;
import java.time.Duration;
import java.util.function.Function;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's transactional producers by slot: slot 0 uses the schema's {@code transactional.id}
 * (the id a dispatcher with one producer uses), slot {@code k} the same with {@code -k}. When none
 * is open (a new leadership, or all were discarded), every id of the family is initialised, those
 * not used closed at once: an old leader's producers of every id are fenced, and what they left open is
 * aborted, whatever either dispatcher's {@code RAGLINE_OUTBOX_PRODUCERS}. Thread-safe: the relay
 * starts and discards producers, the commit thread may discard the one it committed on.
 */
final class OutboxProducers {
    private static final Logger log = LoggerFactory.getLogger(OutboxProducers.class);

    /**
     * How many {@code transactional.id}s every leader initialises, whatever it uses: as many as a
     * dispatcher may be set to use, so that a leader of any setting fences every producer of any
     * older leader.
     */
    static final int FAMILY = DispatcherSettings.MAX_PRODUCERS;

    private final Function<String, Producer<byte[], byte[]>> factory;
    private final String transactionalId;
    private final int producers;

    @SuppressWarnings("unchecked")
    private final Producer<byte[], byte[]>[] slots = new Producer[FAMILY];

    OutboxProducers(Function<String, Producer<byte[], byte[]>> factory, String transactionalId, int producers) {
        if (producers < 1 || producers > FAMILY) {
            throw new IllegalArgumentException("producers must be between 1 and " + FAMILY + ", not " + producers);
        }
        this.factory = factory;
        this.transactionalId = transactionalId;
        this.producers = producers;
    }

    /** The {@code transactional.id} of slot {@code slot}. */
    static String transactionalId(String base, int slot) {
        return slot == 0 ? base : base + "-" + slot;
    }

    int producers() {
        return producers;
    }

    /**
     * The slot's producer, started (and the family fenced, if none was open) when needed. Every
     * slot in use that was discarded is started again here too, whichever slot is asked for: its
     * {@code initTransactions()} aborts at once what the discarded producer left open (a commit that
     * timed out), which would otherwise hold {@code read_committed} consumers of its partitions back
     * until the transaction timed out, since the producers take turns and a slot may not be used
     * again for a long time.
     */
    synchronized Producer<byte[], byte[]> get(int slot) {
        boolean none = true;
        for (Producer<byte[], byte[]> p : slots) {
            none &= p == null;
        }
        if (none) {
            for (int other = producers; other < FAMILY; other++) {
                start(transactionalId(transactionalId, other)).close(Duration.ZERO); // fence only
            }
        }
        for (int used = 0; used < producers; used++) {
            if (slots[used] == null) {
                slots[used] = start(transactionalId(transactionalId, used));
            }
        }
        return slots[slot];
    }

    /** The slot's producer if one is open, else null. */
    synchronized Producer<byte[], byte[]> current(int slot) {
        return slots[slot];
    }

    private Producer<byte[], byte[]> start(String id) {
        Producer<byte[], byte[]> created = factory.apply(id);
        try {
            created.initTransactions(); // fences every older producer of this transactional id
        } catch (RuntimeException e) {
            created.close(Duration.ZERO);
            throw e;
        }
        return created;
    }

    /** Closes every producer without waiting. */
    synchronized void discard() {
        for (int slot = 0; slot < FAMILY; slot++) {
            discard(slot);
        }
    }

    synchronized void discard(int slot) {
        discard(slot, slots[slot]);
    }

    /** Closes {@code p}, and forgets it unless a newer producer took its slot already. */
    synchronized void discard(int slot, Producer<byte[], byte[]> p) {
        if (p == null) {
            return;
        }
        try {
            p.close(Duration.ZERO);
        } catch (RuntimeException e) {
            log.debug("closing the outbox producer: {}", e.toString());
        }
        if (slots[slot] == p) {
            slots[slot] = null;
        }
    }
}
