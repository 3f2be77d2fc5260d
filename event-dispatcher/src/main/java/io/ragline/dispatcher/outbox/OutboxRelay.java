package io.ragline.dispatcher.outbox;

import io.ragline.core.config.CoreSettings;
import io.ragline.core.db.Database;
import io.ragline.core.resilience.Backoff;
import io.ragline.dispatcher.DispatcherSettings;
import io.ragline.dispatcher.bridge.NotifyBridge;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transactional outbox relay. The instance holding the lease drains the outbox at start-up,
 * on every doorbell ({@code NOTIFY "<schema>.outbox"} on a dedicated, unpooled connection), and on
 * a timer, so a notification missed while nobody listened loses nothing. Each batch is published
 * in order, acknowledged by Kafka, then deleted. Standbys try for the lease as often as the
 * leader renews it ({@link Lease#renewEvery}).
 */
public final class OutboxRelay implements Runnable, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    private final CoreSettings core;
    private final DispatcherSettings settings;
    private final OutboxStore store;
    private final Lease lease;
    private final OutboxPublisher publisher;
    private final NotifyBridge bridge;
    private final OutboxMetrics metrics;
    private final OutboxRefusals refusals;
    private final Backoff backoff = Backoff.of(Duration.ofMillis(200), Duration.ofSeconds(10));
    private final Thread thread;
    /**
     * Renews the lease on its own thread at a fixed rate ({@link Lease#renewEvery}), so a batch
     * that waits on a slow Kafka (up to the publish timeout, longer than the lease) never lets a
     * standby take over mid-batch.
     */
    private final java.util.concurrent.ScheduledExecutorService heartbeat =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "outbox-lease");
                t.setDaemon(true);
                return t;
            });

    private volatile boolean holding;
    /** Local deadline (nanoTime) of the lease: renewal start + {@link Lease#trustedFor}, never beyond. */
    private volatile long validUntil;

    private volatile boolean running = true;
    /** Poll-only mode: the first wait after a drain that published (see {@link #waitForDoorbell}). */
    private static final Duration BUSY_POLL = Duration.ofMillis(5);

    private Duration idleWait = BUSY_POLL;
    private boolean publishedSinceLastWait;
    private volatile Connection listener;
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
        this.settings = settings;
        this.store = new OutboxStore(dataSource);
        this.lease = new Lease(dataSource, holder, settings.leaseTtl());
        this.publisher = publisher;
        this.bridge = bridge;
        this.metrics = metrics;
        this.refusals = new OutboxRefusals(store, metrics, faults, settings.maxAttempts());
        this.thread = new Thread(this, "outbox-relay");
    }

    public OutboxRelay start() {
        // A fixed rate, not a fixed delay after each renewal: the time between two renewals must
        // stay well under the time a renewal is trusted, whatever the TTL.
        heartbeat.scheduleAtFixedRate(
                this::renew,
                0,
                Lease.renewEvery(settings.leaseTtl()).toMillis(),
                java.util.concurrent.TimeUnit.MILLISECONDS);
        thread.start();
        return this;
    }

    private void renew() {
        long started = System.nanoTime();
        try {
            boolean held = running && lease.acquireOrRenew();
            if (held) {
                validUntil = started + Lease.trustedFor(settings.leaseTtl()).toNanos();
            }
            holding = held;
        } catch (Throwable e) { // an escaping Error would cancel the schedule and freeze the flag
            holding = false;
            log.debug("outbox lease not renewed: {}", e.toString());
        }
    }

    /** Holds the lease and the last renewal is recent enough to be sure no standby took it. */
    private boolean leading() {
        return holding && System.nanoTime() - validUntil < 0;
    }

    public String channel() {
        return core.schema() + ".outbox";
    }

    @Override
    public void run() {
        int failures = 0;
        while (running) {
            try {
                if (!leading()) {
                    becomeStandby();
                    refreshBacklog(false); // every dispatcher reports what waits, leader or not
                    sleep(Duration.ofMillis(200));
                    continue;
                }
                if (!metrics.isLeader()) {
                    metrics.leader(true);
                    log.info("leader of outbox {} ({}): draining", channel(), lease.holder());
                }
                ensureListening();
                drain();
                failures = 0;
                waitForDoorbell();
            } catch (OutboxPublisher.FencedException e) {
                // Our lease ran out (a freeze, a lost database) and a standby took over: stand by
                // until the heartbeat wins the lease again.
                holding = false;
                log.warn("outbox relay {}; standing by", e.getMessage());
                becomeStandby();
            } catch (Exception e) {
                if (!running) {
                    break;
                }
                failures++;
                metrics.failure();
                closeListener();
                long wait = backoff.wait(failures).toMillis();
                log.warn("outbox relay failed (attempt {}), retrying in {} ms: {}", failures, wait, e.toString());
                sleep(Duration.ofMillis(wait));
            }
        }
    }

    /** Publishes batches until the outbox is empty, renewing the lease between batches. */
    private void drain() throws Exception {
        while (running) {
            refreshBacklog(false);
            OutboxHolds holds = refusals.holds();
            List<OutboxRow> rows =
                    store.next(settings.batchSize(), settings.lookahead(), holds.topics(), holds.keys(), holds.ids());
            if (rows.isEmpty()) {
                refreshBacklog(true);
                return;
            }
            if (!leading() || !running) {
                becomeStandby();
                return;
            }
            rows = refusals.withoutMissingTopics(rows);
            if (rows.isEmpty()) {
                continue; // all of them held back now
            }
            OutboxPublisher.Result result = publisher.publish(rows, this::leading);
            if (result.outcome() == OutboxPublisher.Outcome.NOT_LEADING) {
                becomeStandby();
                return;
            }
            if (result.outcome() == OutboxPublisher.Outcome.FAILED) {
                if (refusals.refused(rows, result.failedRow(), result.failure())) {
                    continue; // the other rows of the batch go again at once
                }
                throw new PublishFailed(rows.size(), result.failure());
            }
            long ackedAt = System.nanoTime();
            publishedSinceLastWait = true;
            List<Long> ids = new ArrayList<>(rows.size());
            for (OutboxRow row : rows) {
                ids.add(row.id());
                metrics.published(row, ackedAt);
            }
            store.delete(ids);
            metrics.batch(rows.size());
            if (!leading()) {
                becomeStandby();
                return;
            }
        }
    }

    private void ensureListening() throws SQLException {
        if (settings.mode() != DispatcherSettings.Mode.LISTEN || listener != null) {
            return;
        }
        listener = Database.connect(core.database(), core.schema(), "event-dispatcher-listen", Duration.ofSeconds(10));
        try (Statement s = listener.createStatement()) {
            s.execute("listen \"" + channel() + "\"");
            for (String bridged : bridge.channels()) {
                s.execute("listen \"" + bridged + "\"");
            }
        }
        log.info("listening on {}{}", channel(), bridge.channels().isEmpty() ? "" : " and " + bridge.channels());
    }

    /** Blocks until a doorbell rings or the poll interval passes (bounded by a third of the lease). */
    private void waitForDoorbell() throws SQLException {
        Duration wait = min(settings.pollInterval(), settings.leaseTtl().dividedBy(3));
        if (listener == null) {
            // Poll-only: right after a drain that published, look again soon (rows are arriving);
            // each empty look doubles the wait, up to the poll interval, so an idle outbox costs
            // one query per interval and a busy one never waits a whole interval.
            idleWait = publishedSinceLastWait ? BUSY_POLL : min(wait, idleWait.multipliedBy(2));
            publishedSinceLastWait = false;
            sleep(min(wait, idleWait));
            return;
        }
        PGNotification[] notifications =
                listener.unwrap(PGConnection.class).getNotifications((int) Math.max(1, wait.toMillis()));
        if (notifications != null) {
            for (PGNotification n : notifications) {
                if (!n.getName().equals(channel())) {
                    bridge.publish(n.getName(), n.getParameter());
                }
            }
        }
        if (listener.isClosed()) {
            throw new SQLException("the LISTEN connection closed", "08003");
        }
    }

    private void becomeStandby() {
        if (metrics.isLeader()) {
            log.warn("lost the outbox lease: standing by");
        }
        metrics.leader(false);
        closeListener();
        publisher.discard(); // a later leadership starts a new producer, fencing any other
        refusals.clear();
    }

    private void refreshBacklog(boolean force) {
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

    private synchronized void closeListener() {
        if (listener != null) {
            try {
                listener.close();
            } catch (SQLException ignored) {
                // closing a broken connection
            }
            listener = null;
        }
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        heartbeat.shutdownNow();
        holding = false;
        closeListener(); // unblocks a relay waiting for a notification
        thread.interrupt();
        thread.join(Duration.ofSeconds(15).toMillis());
        if (thread.isAlive()) {
            // Still inside a batch: keep the lease until it expires rather than hand it to a
            // standby that would publish the same rows at the same time.
            log.warn("outbox relay still busy after 15 s; the lease expires by itself");
        } else {
            publisher.close();
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
