package io.ragline.ingest.webhook;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * Writes a verified webhook as one {@code claude_events} row in one short transaction (a single
 * autocommitted statement). The table's trigger (migration V5) writes the outbox row in the same
 * transaction, exactly as for a row a SQL client inserts, so both paths reach the
 * {@code claude_events} topic the same way. A redelivery (same source and delivery id) changes
 * nothing and is reported as a duplicate.
 */
public final class WebhookStore {
    static final String INSERT = "insert into claude_events (source, delivery_id, event_type, payload, headers,"
            + " priority) values (?, ?, ?, ?::jsonb, ?::jsonb, ?) on conflict (source, delivery_id) do nothing";

    /** What a stored webhook becomes: payload and headers are JSON text, already validated. */
    public record Event(
            String source, String deliveryId, String eventType, String payload, String headers, int priority) {}

    public enum Outcome {
        STORED,
        DUPLICATE
    }

    private final DataSource dataSource;
    private final int queryTimeoutSeconds;

    /** @param timeout bound on the statement (rounded up to whole seconds, as JDBC wants) */
    public WebhookStore(DataSource dataSource, Duration timeout) {
        this.dataSource = dataSource;
        this.queryTimeoutSeconds = (int) Math.max(1, (timeout.toMillis() + 999) / 1000);
    }

    /**
     * Returns once the row is committed (or found to exist). A concurrent insert of the same
     * delivery waits for the other transaction, so both callers learn the outcome after a commit.
     *
     * @throws SQLException the database refused or is unavailable: nothing was stored
     */
    public Outcome store(Event e) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement(INSERT)) {
            if (!c.getAutoCommit()) {
                c.setAutoCommit(true);
            }
            s.setQueryTimeout(queryTimeoutSeconds);
            s.setString(1, e.source());
            s.setString(2, e.deliveryId());
            s.setString(3, e.eventType());
            s.setString(4, e.payload());
            s.setString(5, e.headers());
            s.setShort(6, (short) e.priority());
            return s.executeUpdate() == 1 ? Outcome.STORED : Outcome.DUPLICATE;
        }
    }
}
