package io.ragline.ingest.webhook;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executor;
import javax.sql.DataSource;

/**
 * Writes a verified webhook as one {@code claude_events} row in one short transaction (a single
 * autocommitted statement). The table's trigger (migration V5) writes the outbox row in the same
 * transaction, exactly as for a row a SQL client inserts, so both paths reach the
 * {@code claude_events} topic the same way. A redelivery (same source and delivery id) changes
 * nothing and is reported as a duplicate; so does, for a scheme whose signature leaves the body
 * replayable (GitHub), the same body again under another delivery id: such rows keep the SHA-256
 * of the raw body, unique per source (migration V11).
 *
 * <p>One budget bounds a call: the wait for a connection (the pool's connection timeout, set to the
 * same budget) and then the insert, whose socket may stay silent only for what is left of it. That
 * bound is the network timeout rather than a JDBC query timeout, whose cancel request needs a new
 * connection to the server and so hangs (on the driver's timer thread, shared by every pool) just
 * when the network has gone silent.
 */
public final class WebhookStore {
    /** Any conflict: on (source, delivery_id), or on (source, payload_sha256) where that is set. */
    static final String INSERT = "insert into claude_events (source, delivery_id, event_type, payload, headers,"
            + " priority, payload_sha256) values (?, ?, ?, ?::jsonb, ?::jsonb, ?, ?) on conflict do nothing";

    /** The least an insert gets when the connection came at the end of the budget. */
    static final Duration MINIMUM_STATEMENT_TIME = Duration.ofMillis(250);

    /** pgjdbc sets the socket timeout on the calling thread; the executor is only checked for null. */
    private static final Executor DIRECT = Runnable::run;

    /**
     * What a stored webhook becomes: payload and headers are JSON text, already validated.
     *
     * @param payloadSha256 the SHA-256 of the raw body when the body identifies the delivery too
     *     (its signature covers no timestamp or delivery id), else null
     */
    public record Event(
            String source,
            String deliveryId,
            String eventType,
            String payload,
            String headers,
            int priority,
            byte[] payloadSha256) {}

    public enum Outcome {
        STORED,
        DUPLICATE
    }

    private final DataSource dataSource;
    private final long budgetNanos;

    /**
     * @param timeout bound on one {@link #store} call: the wait for a connection and the insert
     *     together (give the pool the same connection timeout)
     */
    public WebhookStore(DataSource dataSource, Duration timeout) {
        this.dataSource = dataSource;
        this.budgetNanos = timeout.toNanos();
    }

    /**
     * Returns once the row is committed (or found to exist). A concurrent insert of the same
     * delivery waits for the other transaction, so both callers learn the outcome after a commit.
     *
     * @throws SQLException the database refused or is unavailable, or did not answer within the
     *     budget: the row is not stored, or (the answer lost after the commit) stored once, which a
     *     retried delivery learns as a duplicate
     */
    public Outcome store(Event e) throws SQLException {
        long started = System.nanoTime();
        try (Connection c = dataSource.getConnection()) {
            long leftMillis = Duration.ofNanos(budgetNanos - (System.nanoTime() - started))
                    .toMillis();
            c.setNetworkTimeout(
                    DIRECT, (int) Math.min(Integer.MAX_VALUE, Math.max(MINIMUM_STATEMENT_TIME.toMillis(), leftMillis)));
            if (!c.getAutoCommit()) {
                c.setAutoCommit(true);
            }
            try (PreparedStatement s = c.prepareStatement(INSERT)) {
                s.setString(1, e.source());
                s.setString(2, e.deliveryId());
                s.setString(3, e.eventType());
                s.setString(4, e.payload());
                s.setString(5, e.headers());
                s.setShort(6, (short) e.priority());
                s.setBytes(7, e.payloadSha256());
                return s.executeUpdate() == 1 ? Outcome.STORED : Outcome.DUPLICATE;
            }
        }
    }
}
