package io.ragline.core.events;

import io.ragline.contracts.status.ClaudeEventStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The inbound events of {@code claude_events} as an operator sees them: listed and filtered newest
 * first, one with its payload, and replayed (status back to {@code received}, the message
 * re-published through the outbox by the SQL function {@code replay_claude_event}, migration V7).
 * The one home of these queries: {@code ragline events} and the console's {@code /api/v1/events}
 * both call it.
 */
public final class ClaudeEvents {
    private static final String COLUMNS =
            "id, source, delivery_id, event_type, status, attempts, replays," + " created_at, processed_at, last_error";

    private ClaudeEvents() {}

    /** One row, without its payload and headers. */
    public record Event(
            long id,
            String source,
            String deliveryId,
            String eventType,
            ClaudeEventStatus status,
            int attempts,
            int replays,
            Instant receivedAt,
            Instant routedAt,
            String error) {}

    /** An event with what it carried: its payload and headers as JSON text. */
    public record Detail(Event event, String payloadJson, String headersJson, int priority) {}

    /**
     * Which events to list; a null field does not filter.
     *
     * @param beforeId only events with a smaller id (the page after the one that ended there)
     */
    public record Filter(String source, String eventType, ClaudeEventStatus status, Long beforeId) {
        public static final Filter ALL = new Filter(null, null, null, null);
    }

    /** At most {@code limit} events matching {@code filter}, newest (highest id) first. */
    public static List<Event> list(Connection c, Filter filter, int limit) throws SQLException {
        String status = filter.status() == null ? null : filter.status().stored();
        try (PreparedStatement s = c.prepareStatement("select " + COLUMNS + " from claude_events"
                + " where (?::text is null or status = ?) and (?::text is null or source = ?)"
                + " and (?::text is null or event_type = ?) and (?::bigint is null or id < ?)"
                + " order by id desc limit ?")) {
            s.setString(1, status);
            s.setString(2, status);
            s.setString(3, filter.source());
            s.setString(4, filter.source());
            s.setString(5, filter.eventType());
            s.setString(6, filter.eventType());
            s.setObject(7, filter.beforeId(), java.sql.Types.BIGINT);
            s.setObject(8, filter.beforeId(), java.sql.Types.BIGINT);
            s.setInt(9, limit);
            List<Event> events = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    events.add(read(rs));
                }
            }
            return events;
        }
    }

    /** The event {@code id} with its payload, or empty when there is none. */
    public static Optional<Detail> find(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "select " + COLUMNS + ", payload::text, headers::text, priority from claude_events where id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Detail(read(rs), rs.getString(11), rs.getString(12), rs.getInt(13)));
            }
        }
    }

    /**
     * Replays the event {@code id} in the caller's transaction: status back to {@code received},
     * {@code replays} + 1, its message written to the outbox again. Returns the event as it is now,
     * or empty when there is none (nothing changed).
     */
    public static Optional<Event> replay(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select " + COLUMNS + " from replay_claude_event(?)")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    /** What {@link #replayAll} did: every event replayed, or none when some ids name no event. */
    public record Replays(List<Event> replayed, Set<Long> missing) {}

    /**
     * Replays every event of {@code ids} (in their order, duplicates once) in the caller's
     * transaction, or none of them: when some ids name no event, nothing is written and they are
     * returned in {@link Replays#missing}. The events found are locked first, so none can vanish
     * between the check and its replay.
     */
    public static Replays replayAll(Connection c, Collection<Long> ids) throws SQLException {
        Set<Long> wanted = new LinkedHashSet<>(ids);
        Set<Long> missing = new LinkedHashSet<>(wanted);
        try (PreparedStatement s =
                c.prepareStatement("select id from claude_events where id = any(?) order by id for no key update")) {
            s.setArray(1, c.createArrayOf("bigint", wanted.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    missing.remove(rs.getLong(1));
                }
            }
        }
        if (!missing.isEmpty()) {
            return new Replays(List.of(), missing);
        }
        List<Event> replayed = new ArrayList<>(wanted.size());
        for (long id : wanted) {
            replayed.add(replay(c, id).orElseThrow(() -> new IllegalStateException("event " + id + " vanished")));
        }
        return new Replays(replayed, Set.of());
    }

    private static Event read(ResultSet rs) throws SQLException {
        return new Event(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                ClaudeEventStatus.fromStored(rs.getString(5)),
                rs.getInt(6),
                rs.getInt(7),
                instant(rs.getTimestamp(8)),
                instant(rs.getTimestamp(9)),
                rs.getString(10));
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
