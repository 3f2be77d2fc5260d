package io.ragline.console.deadletters;

import io.ragline.contracts.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The table {@code dead_letter_dispositions} (migration V17): what an operator did with a dead
 * letter, by whom, when. At most one row per dead letter; {@link #claimKafka} and {@link
 * #claimOutbox} insert it in the caller's transaction and return false when the dead letter already
 * has one (a concurrent claim waits for the other transaction, then loses if it committed).
 */
public final class Dispositions {
    private Dispositions() {}

    /** What was done. */
    public enum Action {
        REDRIVEN,
        DISCARDED;

        public String stored() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Action fromStored(String text) {
            return valueOf(text.toUpperCase(Locale.ROOT));
        }
    }

    /** Who acted: the API caller's name and role (lower case). */
    public record Actor(String name, String role) {}

    /** One disposition: the action, who ({@link Actor#name()}), when, and what it produced. */
    public record Disposition(Action action, String by, Instant at, Map<String, Object> detail) {}

    /**
     * Records that the record at {@code topic}, {@code partition}, {@code offset} of a dead-letter
     * topic was dealt with; false (nothing written) when it already was.
     */
    public static boolean claimKafka(
            Connection c, String topic, int partition, long offset, Action action, Actor by, Map<String, ?> detail)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("insert into dead_letter_dispositions (kind, topic,"
                + " kafka_partition, kafka_offset, action, actor, actor_role, detail) values ('kafka', ?, ?, ?, ?, ?,"
                + " ?, ?::jsonb) on conflict (topic, kafka_partition, kafka_offset) where kind = 'kafka' do nothing")) {
            s.setString(1, topic);
            s.setInt(2, partition);
            s.setLong(3, offset);
            s.setString(4, action.stored());
            s.setString(5, by.name());
            s.setString(6, by.role());
            s.setString(7, Json.write(detail));
            return s.executeUpdate() == 1;
        }
    }

    /** Adds {@code detail} to the disposition of a Kafka dead letter (where the redriven record went). */
    public static void completeKafka(Connection c, String topic, int partition, long offset, Map<String, ?> detail)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("update dead_letter_dispositions set detail = detail || ?::jsonb"
                + " where kind = 'kafka' and topic = ? and kafka_partition = ? and kafka_offset = ?")) {
            s.setString(1, Json.write(detail));
            s.setString(2, topic);
            s.setInt(3, partition);
            s.setLong(4, offset);
            s.executeUpdate();
        }
    }

    /**
     * Records that the outbox dead letter {@code id} (kept as it was in {@code deadLetterJson}) was
     * dealt with; false (nothing written) when it already was.
     */
    public static boolean claimOutbox(
            Connection c, long id, String topic, Action action, Actor by, Map<String, ?> detail, String deadLetterJson)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("insert into dead_letter_dispositions (kind, topic, outbox_id,"
                + " action, actor, actor_role, detail, dead_letter) values ('outbox', ?, ?, ?, ?, ?, ?::jsonb,"
                + " ?::jsonb) on conflict (outbox_id) where kind = 'outbox' do nothing")) {
            s.setString(1, topic);
            s.setLong(2, id);
            s.setString(3, action.stored());
            s.setString(4, by.name());
            s.setString(5, by.role());
            s.setString(6, Json.write(detail));
            s.setString(7, deadLetterJson);
            return s.executeUpdate() == 1;
        }
    }

    /** The disposition of the outbox dead letter {@code id}, if it has one. */
    public static Optional<Disposition> ofOutbox(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select action, actor, at, detail::text"
                + " from dead_letter_dispositions where kind = 'outbox' and outbox_id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    /** The dispositions of the records of one partition between two offsets ({@code to} excluded), by offset. */
    public static Map<Long, Disposition> ofKafka(Connection c, String topic, int partition, long from, long to)
            throws SQLException {
        Map<Long, Disposition> found = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement("select action, actor, at, detail::text, kafka_offset"
                + " from dead_letter_dispositions where kind = 'kafka' and topic = ? and kafka_partition = ?"
                + " and kafka_offset >= ? and kafka_offset < ?")) {
            s.setString(1, topic);
            s.setInt(2, partition);
            s.setLong(3, from);
            s.setLong(4, to);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    found.put(rs.getLong(5), read(rs));
                }
            }
        }
        return found;
    }

    @SuppressWarnings("unchecked")
    private static Disposition read(ResultSet rs) throws SQLException {
        Map<String, Object> detail;
        try {
            detail = Json.MAPPER.readValue(rs.getString(4), Map.class);
        } catch (java.io.IOException e) {
            throw new SQLException("dead_letter_dispositions.detail is not a JSON object: " + e.getMessage(), e);
        }
        return new Disposition(
                Action.fromStored(rs.getString(1)),
                rs.getString(2),
                rs.getTimestamp(3).toInstant(),
                detail);
    }
}
