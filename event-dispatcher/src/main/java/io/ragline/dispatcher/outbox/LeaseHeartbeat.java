package io.ragline.dispatcher.outbox;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews the outbox lease at a fixed rate ({@link Lease#renewEvery}) on its own supervised thread,
 * so a batch that waits on a slow Kafka (up to the publish timeout, longer than the lease) never
 * lets a standby take over mid-batch. A renewal that fails (the database, a timeout) moves
 * {@link Leadership} to STANDBY and the next one tries again; anything else that escapes (an
 * {@link Error}) also gives leadership up, then ends the thread, which the supervisor reports as a
 * death (readiness 503, exit 1) rather than leaving leadership to freeze.
 */
public final class LeaseHeartbeat implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(LeaseHeartbeat.class);

    private final Lease lease;
    private final Leadership leadership;
    private final OutboxMetrics metrics;
    private final long periodNanos;
    private final CountDownLatch stopped = new CountDownLatch(1);

    public LeaseHeartbeat(Lease lease, Leadership leadership, Duration ttl, OutboxMetrics metrics) {
        this.lease = lease;
        this.leadership = leadership;
        this.metrics = metrics;
        this.periodNanos = Lease.renewEvery(ttl).toNanos();
    }

    /**
     * Renews until {@link #stop()}. A fixed rate, not a fixed delay after each renewal: the time
     * between two renewals must stay well under the time a renewal is trusted, whatever the TTL. A
     * late renewal does not try to catch up with a burst.
     */
    @Override
    public void run() {
        long next = System.nanoTime();
        while (stopped.getCount() > 0) {
            renewOnce();
            next += periodNanos;
            long wait = next - System.nanoTime();
            if (wait < 0) {
                next = System.nanoTime();
                continue;
            }
            try {
                stopped.await(wait, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    void renewOnce() {
        long started = System.nanoTime();
        try {
            boolean held = lease.acquireOrRenew();
            metrics.phase(OutboxMetrics.Phase.LEASE_RENEWAL, started);
            if (held) {
                leadership.renewed(started);
            } else {
                leadership.notRenewed("another dispatcher holds it");
            }
        } catch (SQLException | RuntimeException e) {
            leadership.notRenewed(e.toString());
            log.debug("outbox lease not renewed: {}", e.toString());
        } catch (Error e) {
            leadership.notRenewed(e.toString());
            throw e;
        }
    }

    /** Asks the heartbeat to stop; it wakes up at once. */
    public void stop() {
        stopped.countDown();
    }
}
