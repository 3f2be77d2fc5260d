package io.ragline.dispatcher.outbox;

import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseTimeouts;
import io.ragline.core.config.Problems;
import io.ragline.core.db.ConnectionProperties;
import io.ragline.core.db.ConnectionProperties.Use;
import io.ragline.core.db.Database;
import io.ragline.dispatcher.DispatcherSettings;
import io.ragline.dispatcher.bridge.NotifyBridge;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's doorbell: in {@code listen} mode, {@code LISTEN "<schema>.outbox"} (and every
 * bridged channel) on a dedicated, unpooled connection, so that the leader wakes as soon as a row
 * is inserted. Between drains the relay {@link #await waits} here until a notification arrives or
 * the poll interval passes; what arrives on a bridged channel goes to the {@link NotifyBridge} on
 * the relay's thread. A connection that closed or stopped answering its probe fails the wait, and
 * the relay's failure path {@link #close closes} it; the next turn {@link #arm arms} a new one. In
 * {@code poll} mode there is no connection, and the wait is a sleep. Used by the relay's thread,
 * but for {@link #close}, which {@link OutboxRelay#stop} calls from any thread.
 */
final class OutboxDoorbell {
    private static final Logger log = LoggerFactory.getLogger(OutboxDoorbell.class);

    /** Poll-only mode: the first wait after a drain that published (see {@link #await}). */
    private static final Duration BUSY_POLL = Duration.ofMillis(5);

    private final OutboxRelay relay;
    private final CoreSettings core;
    private final DispatcherSettings settings;
    private final NotifyBridge bridge;
    private final OutboxMetrics metrics;

    private Duration idleWait = BUSY_POLL;
    /**
     * Notifications of bridged channels {@link #rang} read, for {@link #forwardBridged}; cleared by
     * {@link #close} (which {@link OutboxRelay#stop} calls from another thread).
     */
    private final List<PGNotification> bridged = Collections.synchronizedList(new ArrayList<>());

    private boolean publishedSinceLastWait;
    private volatile Connection listener;

    OutboxDoorbell(
            OutboxRelay relay,
            CoreSettings core,
            DispatcherSettings settings,
            NotifyBridge bridge,
            OutboxMetrics metrics) {
        this.relay = relay;
        this.core = core;
        this.settings = settings;
        this.bridge = bridge;
        this.metrics = metrics;
    }

    /** A drain published rows: in poll-only mode, the next wait is short (rows are arriving). */
    void published() {
        publishedSinceLastWait = true;
    }

    /** In {@code listen} mode, opens the LISTEN connection unless it is open already. */
    void arm() throws SQLException {
        if (settings.mode() != DispatcherSettings.Mode.LISTEN || listener != null) {
            return;
        }
        listener = Database.connect(core.database(), core.schema(), "event-dispatcher-listen", Use.PIPELINE);
        listen(listener);
        log.info("listening on {}{}", relay.channel(), bridge.channels().isEmpty() ? "" : " and " + bridge.channels());
    }

    /** Blocks until a doorbell rings or the poll interval passes (bounded by a third of the lease). */
    void await() throws SQLException {
        forwardBridged();
        Duration wait = min(settings.pollInterval(), settings.leaseTtl().dividedBy(3));
        // One read of the field: close() may set it to null (after closing it) while this waits.
        Connection c = listener;
        if (c == null) {
            // Poll-only: right after a drain that published, look again soon (rows are arriving);
            // each empty look doubles the wait, up to the poll interval, so an idle outbox costs
            // one query per interval and a busy one never waits a whole interval.
            idleWait = publishedSinceLastWait ? BUSY_POLL : min(wait, idleWait.multipliedBy(2));
            publishedSinceLastWait = false;
            relay.sleep(min(wait, idleWait));
            return;
        }
        PGNotification[] notifications =
                c.unwrap(PGConnection.class).getNotifications((int) Math.max(1, wait.toMillis()));
        if (notifications != null && notifications.length > 0) {
            for (PGNotification n : notifications) {
                if (!n.getName().equals(relay.channel())) {
                    bridge.publish(n.getName(), n.getParameter());
                }
            }
        } else {
            probe(c);
        }
        if (relay.running() && c.isClosed()) {
            throw new SQLException("the LISTEN connection closed", "08003");
        }
    }

    /** Whether a LISTEN connection is open: {@link #rang} can tell of rows as they arrive. */
    boolean listening() {
        return listener != null;
    }

    /**
     * In {@code listen} mode, waits at most {@code millis} for a doorbell and says whether the
     * outbox's rang; what arrived on a bridged channel is kept for {@link #forwardBridged}.
     * For a drain that waits on something else (a commit) and takes the rows arriving meanwhile.
     * False at once in poll mode. A wait it is, however short: pgjdbc's look without one reads the
     * socket at most once a second.
     */
    boolean rang(int millis) throws SQLException {
        Connection c = listener;
        if (c == null) {
            return false;
        }
        PGNotification[] notifications = c.unwrap(PGConnection.class).getNotifications(Math.max(1, millis));
        boolean outbox = false;
        if (notifications != null) {
            for (PGNotification n : notifications) {
                if (n.getName().equals(relay.channel())) {
                    outbox = true;
                } else {
                    bridged.add(n);
                }
            }
        }
        return outbox;
    }

    /**
     * Forwards what {@link #rang} read on bridged channels, in order, if this dispatcher still
     * leads (else drops it: a bridged notification goes out at most once, from the leader). Called
     * once no transaction of the relay waits on it (a send to a bridged topic may wait for its
     * metadata), and at every {@link #await}.
     */
    void forwardBridged() {
        List<PGNotification> pending;
        synchronized (bridged) {
            if (bridged.isEmpty()) {
                return;
            }
            pending = List.copyOf(bridged);
            bridged.clear();
        }
        if (!relay.leading()) {
            return;
        }
        for (PGNotification n : pending) {
            bridge.publish(n.getName(), n.getParameter());
        }
    }

    private void listen(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("listen \"" + relay.channel() + "\"");
            for (String bridged : bridge.channels()) {
                s.execute("listen \"" + bridged + "\"");
            }
        }
    }

    /**
     * A LISTEN connection only reads, and waiting for a doorbell that never comes looks the same as
     * a server gone silent (a partition, a failed-over host whose address is gone, a firewall that
     * forgot the idle connection). So every quiet wait ends with one round trip on it: the outbox
     * channel's LISTEN again (a no-op, as the session listens to it already, and {@code
     * pg_stat_activity} keeps showing what the session is for), bounded by the pipeline's socket
     * timeout (its default when that is off). No answer, and the relay's failure path closes the
     * connection and LISTENs again, on every channel, on a new one.
     */
    private void probe(Connection c) throws SQLException {
        if (!relay.running()) {
            return; // stopping: stop() closed it
        }
        Duration bound = ConnectionProperties.socketTimeout(core.database(), Use.PIPELINE)
                .orElse(DatabaseTimeouts.DEFAULT_SOCKET_TIMEOUT);
        try {
            c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, bound.toMillis()));
            try (Statement s = c.createStatement()) {
                s.execute("listen \"" + relay.channel() + "\"");
            }
        } catch (SQLException e) {
            if (!relay.running()) {
                return;
            }
            metrics.listenLost();
            String what = timedOut(e) ? "did not answer within " + Problems.text(bound) : "failed";
            throw new SQLException("the LISTEN connection " + what + ": " + e.getMessage(), "08006", e);
        }
    }

    /** Whether {@code e} is the driver giving up a silent socket (not a reset, a refusal, a close). */
    static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** Closes the LISTEN connection, if open (unblocking a wait on it); the next {@link #arm} opens another. */
    synchronized void close() {
        bridged.clear(); // read by a leader that no longer is, or stopping: never forwarded
        if (listener != null) {
            try {
                listener.close();
            } catch (SQLException ignored) {
                // closing a broken connection
            }
            listener = null;
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
