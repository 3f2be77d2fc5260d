package io.ragline.dispatcher.outbox;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.resilience.Backoff;
import io.ragline.dispatcher.DispatcherSettings;
import io.ragline.dispatcher.bridge.NotifyBridge;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transactional outbox relay. The instance holding the lease drains the outbox at start-up,
 * on every doorbell ({@link OutboxDoorbell}: {@code NOTIFY "<schema>.outbox"} on a dedicated,
 * unpooled connection), and on a timer, so a notification missed while nobody listened loses
 * nothing. Each batch is published
 * in order, acknowledged by Kafka, then deleted; with two or more producers the next batch is sent while
 * one commits ({@link OverlappedDrain}). Standbys try for the lease as often as the
 * leader renews it ({@link Lease#renewEvery}). The relay and its {@link LeaseHeartbeat} run as
 * supervised threads of the runtime ({@link #start}); whether it leads is its {@link Leadership}.
 * The {@link NotifyBridge} has no thread of its own: it forwards what the relay's LISTEN connection
 * receives, on the relay's thread, so it is supervised with it.
 */
public final class OutboxRelay implements Runnable, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    /** The relay thread's name. */
    public static final String RELAY = "outbox-relay";
    /** The lease heartbeat thread's name. */
    public static final String HEARTBEAT = "outbox-lease";

    private final CoreSettings core;
    private final OutboxStore store;
    private final OutboxClaims claims;
    private final Lease lease;
    private final OutboxPublisher publisher;
    private final OutboxMetrics metrics;
    private final OutboxRefusals refusals;
    private final Backoff backoff = Backoff.of(Duration.ofMillis(200), Duration.ofSeconds(10));
    private final Leadership leadership;
    private final LeaseHeartbeat heartbeat;
    /** The drain with two or more producers ({@code RAGLINE_OUTBOX_PRODUCERS} at least 2). */
    private final OverlappedDrain overlapped;

    private final OutboxDoorbell doorbell;

    /** {@code RAGLINE_OUTBOX_LINGER} in nanoseconds: the least time between two batches' starts. */
    private final long lingerNanos;
    /** When the last batch began ({@link System#nanoTime}); meaningful once {@link #begun}. */
    private long lastBatch;

    private boolean begun;
    /** The last batch was a full one (a backlog): the next is claimed at once. */
    private boolean lastFull;
    /** Counted down when {@link #run()} has returned: only then may the lease be released. */
    private final CountDownLatch ended = new CountDownLatch(1);

    private volatile Thread runner;

    private volatile boolean running = true;
    private Instant lastBacklogCheck = Instant.EPOCH;

    public OutboxRelay(
            CoreSettings core,
            DispatcherSettings settings,
            DataSource dataSource,
            OutboxPublisher publisher,
            NotifyBridge bridge,
            OutboxMetrics metrics,
            RowFaults faults,
            String holder) {
        this.core = core;
        this.store = new OutboxStore(dataSource);
        this.claims = new OutboxClaims(store, metrics, settings.batchSize(), settings.lookahead());
        this.lease = new Lease(dataSource, holder, settings.leaseTtl());
        this.publisher = publisher;
        this.metrics = metrics;
        this.refusals = new OutboxRefusals(store, metrics, faults, settings.maxAttempts());
        this.leadership = new Leadership(
                settings.leaseTtl(), System::nanoTime, metrics, core.schema() + ".outbox (" + holder + ")");
        this.heartbeat = new LeaseHeartbeat(lease, leadership, settings.leaseTtl(), metrics);
        this.overlapped = new OverlappedDrain(this, claims, refusals, publisher);
        this.doorbell = new OutboxDoorbell(this, core, settings, bridge, metrics);
        this.lingerNanos = settings.linger().toNanos();
    }

    /**
     * Runs the lease heartbeat ({@value #HEARTBEAT}) and the relay ({@value #RELAY}) as supervised
     * threads of {@code runtime}: either dying stops the process. At shutdown the relay stops
     * first, then the heartbeat, then the lease is released if the relay's thread has ended.
     */
    public void start(WorkerRuntime runtime) {
        runtime.manage(this);
        runtime.supervise(HEARTBEAT, heartbeat, heartbeat::stop);
        runtime.supervise(RELAY, this, this::stop);
    }

    /** Whether this dispatcher leads now. */
    public Leadership.State leadership() {
        return leadership.state();
    }

    boolean leading() {
        return leadership.leading();
    }

    boolean running() {
        return running;
    }

    /** The doorbell, for a drain that takes the rows arriving while a commit is under way. */
    OutboxDoorbell doorbell() {
        return doorbell;
    }

    public String channel() {
        return core.schema() + ".outbox";
    }

    /** Relays until {@link #stop()}; an Error escapes, and the supervisor reports the death. */
    @Override
    public void run() {
        runner = Thread.currentThread();
        try {
            relay();
        } finally {
            ended.countDown();
        }
    }

    private void relay() {
        int failures = 0;
        while (running) {
            try {
                if (!leading()) {
                    standBy();
                    refreshBacklog(false); // every dispatcher reports what waits, leader or not
                    sleep(Duration.ofMillis(200));
                    continue;
                }
                doorbell.arm();
                drain();
                failures = 0;
                doorbell.await();
            } catch (OutboxPublisher.FencedException e) {
                // Our lease ran out (a freeze, a lost database) and a standby took over: stand by
                // until the heartbeat wins the lease again.
                log.warn("outbox relay {}; standing by", e.getMessage());
                leadership.fenced(e.getMessage());
                standBy();
            } catch (Exception e) {
                if (!running) {
                    break;
                }
                failures++;
                metrics.failure();
                doorbell.close();
                long wait = backoff.wait(failures).toMillis();
                log.warn("outbox relay failed (attempt {}), retrying in {} ms: {}", failures, wait, e.toString());
                sleep(Duration.ofMillis(wait));
            }
        }
    }

    /**
     * Publishes batches until the outbox is empty. A batch Kafka committed is deleted by the claim
     * of a later batch, in the same round trip, and small batches have the next one claimed while
     * they commit ({@link OutboxClaims}); what no claim deleted is deleted before the drain returns.
     */
    private void drain() throws Exception {
        try {
            drainBatches();
        } finally {
            claims.flush();
        }
    }

    private void drainBatches() throws Exception {
        if (publisher.producers() > 1) {
            overlapped.drain();
            return;
        }
        while (running) {
            refreshBacklog(false);
            if (!linger()) {
                return;
            }
            OutboxHolds holds = refusals.holds();
            List<OutboxRow> rows = claims.next(holds);
            if (rows.isEmpty()) {
                nothingToPublish(holds);
                return;
            }
            if (!leading() || !running) {
                standBy();
                return;
            }
            rows = refusals.withoutMissingTopics(rows);
            if (rows.isEmpty()) {
                continue; // all of them held back now
            }
            List<OutboxRow> batch = rows;
            batchBegins(batch.size());
            // Claimed ahead at the linger's end, not now: it holds the rows the linger gathers.
            OutboxPublisher.Result result =
                    publisher.publish(batch, this::leading, () -> claims.claimAhead(batch, holds, lingerEnd()));
            if (result.outcome() != OutboxPublisher.Outcome.COMMITTED) {
                claims.dropAhead();
            }
            if (!after(rows, result)) {
                return;
            }
        }
    }

    /**
     * Before a claim: waits until {@code RAGLINE_OUTBOX_LINGER} has passed since the last batch
     * began ({@link #batchBegins}), so that the rows arriving meanwhile go in one batch, one Kafka
     * transaction, rather than one each; not after a full batch (a backlog drains at full speed).
     * False when an interrupt stopped the relay meanwhile (as in {@link #sleep}): no claim follows.
     */
    boolean linger() {
        long end = lingerEnd();
        long wait = end == 0 ? 0 : end - System.nanoTime(); // one reading of the clock
        if (wait > 0) {
            sleep(Duration.ofNanos(wait));
        }
        return running;
    }

    /**
     * When the linger since the last batch began ends ({@link System#nanoTime}), or 0 when the next
     * batch need not wait: no linger, no batch yet, or the last one full.
     */
    long lingerEnd() {
        return lingerNanos > 0 && begun && !lastFull ? lastBatch + lingerNanos : 0;
    }

    /** A batch of {@code rows} rows begins now: its producer's transaction is about to begin ({@link #linger}). */
    void batchBegins(int rows) {
        lastBatch = System.nanoTime();
        lastFull = rows >= claims.fullBatch();
        begun = true;
    }

    /** The outbox had nothing to claim: the backlog gauges follow (counted only if something is held). */
    void nothingToPublish(OutboxHolds holds) {
        if (holds.isEmpty()) {
            metrics.emptied(); // nothing visible waits: no need to count
        } else {
            refreshBacklog(true);
        }
    }

    /**
     * What follows a batch's {@code result}: true to go on draining, false to return (standing
     * by). A refused row or topic is counted and held back and the rest goes again at once; any
     * other failure is thrown ({@link PublishFailed}: the relay backs off).
     */
    boolean after(List<OutboxRow> rows, OutboxPublisher.Result result) throws Exception {
        if (result.outcome() == OutboxPublisher.Outcome.NOT_LEADING) {
            standBy();
            return false;
        }
        if (result.outcome() == OutboxPublisher.Outcome.FAILED) {
            if (refusals.refused(rows, result.failedRow(), result.failure())) {
                return true; // the other rows of the batch go again at once
            }
            throw new PublishFailed(rows.size(), result.failure());
        }
        published(rows, result.at());
        if (!leading()) {
            standBy();
            return false;
        }
        return true;
    }

    /**
     * {@code rows} committed in Kafka at {@code ackedAt} ({@link System#nanoTime}): deleted by the
     * next claim, counted now.
     */
    void published(List<OutboxRow> rows, long ackedAt) {
        doorbell.published();
        claims.committed(rows);
        for (OutboxRow row : rows) {
            metrics.published(row, ackedAt);
        }
        metrics.batch(rows.size());
    }

    /** Drops what only a leader holds (idempotent: called on every idle turn of a standby). */
    void standBy() {
        doorbell.close();
        publisher.discard(); // a later leadership starts a new producer, fencing any other
        refusals.clear();
    }

    void refreshBacklog(boolean force) {
        Instant now = Instant.now();
        if (!force && now.isBefore(lastBacklogCheck.plusSeconds(5))) {
            return;
        }
        lastBacklogCheck = now;
        try {
            metrics.backlog(store.backlog(1_000_000));
        } catch (SQLException e) {
            log.debug("backlog not measured: {}", e.toString());
        }
    }

    /** Sleeps {@code d} (to the nanosecond, as far as the platform goes); an interrupt stops the relay. */
    void sleep(Duration d) {
        try {
            TimeUnit.NANOSECONDS.sleep(d.toNanos());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /**
     * Asks the relay to stop: it leads no more (a batch in flight is aborted before its commit),
     * stops waiting for a doorbell, and is interrupted out of any sleep.
     */
    public void stop() {
        running = false;
        leadership.stop();
        doorbell.close(); // unblocks a relay waiting for a notification
        Thread t = runner;
        if (t != null) {
            t.interrupt();
        }
    }

    /**
     * Releases the lease once the relay's thread has ended, so a standby takes over at once. A
     * relay still inside a batch keeps the lease until it expires rather than hand it to a standby
     * that would publish the same rows at the same time.
     */
    @Override
    public void close() {
        stop();
        if (runner != null && ended.getCount() > 0) {
            log.warn("outbox relay still busy; the lease expires by itself");
        } else {
            publisher.close();
            claims.close();
            try {
                lease.release();
            } catch (SQLException e) {
                log.warn("could not release the outbox lease (a standby takes over when it expires): {}", e.toString());
            }
        }
        metrics.leader(false);
    }

    /** Some rows of a batch were not acknowledged; they stay in the outbox. */
    static final class PublishFailed extends Exception {
        PublishFailed(int rows, Exception cause) {
            super(rows + " rows not acknowledged by Kafka: " + cause, cause);
        }
    }
}
