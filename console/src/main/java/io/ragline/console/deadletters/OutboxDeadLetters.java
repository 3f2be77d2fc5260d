package io.ragline.console.deadletters;

import com.fasterxml.jackson.core.type.TypeReference;
import io.ragline.console.deadletters.Dispositions.Action;
import io.ragline.console.deadletters.Dispositions.Actor;
import io.ragline.console.deadletters.Dispositions.Disposition;
import io.ragline.contracts.Json;
import io.ragline.core.outbox.Outbox;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The rows of {@code outbox_dead_letters} (outbox rows Kafka refused for good, moved there by the
 * event-dispatcher): listed, redriven (inserted into the outbox again through {@link Outbox}, so
 * the dispatcher publishes them once more) or discarded. Either removes the row and records its
 * disposition, with the row as it was, in one transaction; the table holds only what still waits
 * for an operator.
 */
public final class OutboxDeadLetters {
    private static final String COLUMNS = "id, topic, key, payload::text, headers::text, priority, created_at,"
            + " attempts, last_error, dead_lettered_at";
    private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};

    private final DataSource database;

    public OutboxDeadLetters(DataSource database) {
        this.database = database;
    }

    /** A row of {@code outbox_dead_letters}; payload and headers as JSON text (payload null for a tombstone). */
    public record Row(
            long id,
            String topic,
            String key,
            String payloadJson,
            String headersJson,
            int priority,
            Instant createdAt,
            int attempts,
            String lastError,
            Instant deadLetteredAt) {}

    /** At most {@code limit} rows (of {@code topic} when not null) with an id below {@code beforeId}, highest id first. */
    public List<Row> list(String topic, Long beforeId, int limit) throws SQLException {
        try (Connection c = database.getConnection();
                PreparedStatement s = c.prepareStatement("select " + COLUMNS + " from outbox_dead_letters"
                        + " where (?::text is null or topic = ?) and (?::bigint is null or id < ?)"
                        + " order by id desc limit ?")) {
            s.setString(1, topic);
            s.setString(2, topic);
            s.setObject(3, beforeId, java.sql.Types.BIGINT);
            s.setObject(4, beforeId, java.sql.Types.BIGINT);
            s.setInt(5, limit);
            List<Row> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(read(rs));
                }
            }
            return rows;
        }
    }

    /**
     * Inserts the dead letter {@code id} into the outbox again (topic, key, payload, priority and
     * headers as they were, plus {@link DeadLetterTopics#REDRIVEN_FROM}) and records the
     * redrive; returns the disposition.
     *
     * @throws Refusal NOT_FOUND when there is no such dead letter, CONFLICT when it was redriven or
     *     discarded already
     */
    public Disposition redrive(long id, Actor by) throws SQLException, Refusal {
        return dispose(id, Action.REDRIVEN, by);
    }

    /** Removes the dead letter {@code id} for good and records the discard; refusals as {@link #redrive}. */
    public Disposition discard(long id, Actor by) throws SQLException, Refusal {
        return dispose(id, Action.DISCARDED, by);
    }

    private Disposition dispose(long id, Action action, Actor by) throws SQLException, Refusal {
        try (Connection c = database.getConnection()) {
            c.setAutoCommit(false);
            try {
                Optional<Row> taken = take(c, id);
                if (taken.isEmpty()) {
                    c.rollback();
                    c.setAutoCommit(true);
                    Optional<Disposition> before = Dispositions.ofOutbox(c, id);
                    if (before.isPresent()) {
                        throw Refusal.conflict("outbox dead letter " + id + " was "
                                + before.get().action().stored() + " by "
                                + before.get().by() + " at " + before.get().at());
                    }
                    throw Refusal.notFound("no outbox dead letter with id " + id);
                }
                Row row = taken.get();
                if (action == Action.REDRIVEN) {
                    Map<String, String> headers = headers(row.headersJson());
                    headers.put(DeadLetterTopics.REDRIVEN_FROM, "outbox_dead_letters/" + id);
                    Outbox.append(
                            c,
                            List.of(new Outbox.Row(
                                    row.topic(), row.key(), row.payloadJson(), headers, row.priority())));
                }
                if (!Dispositions.claimOutbox(c, id, row.topic(), action, by, Map.of(), rowJson(row))) {
                    throw new IllegalStateException("outbox dead letter " + id + " was taken but already disposed of");
                }
                c.commit();
                c.setAutoCommit(true);
                return Dispositions.ofOutbox(c, id).orElseThrow();
            } catch (SQLException | RuntimeException e) {
                if (!c.getAutoCommit()) {
                    c.rollback();
                }
                throw e;
            }
        }
    }

    /** Deletes the row {@code id} in the caller's transaction (a concurrent taker waits, then finds none). */
    private static Optional<Row> take(Connection c, long id) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("delete from outbox_dead_letters where id = ? returning " + COLUMNS)) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    private static Map<String, String> headers(String json) throws SQLException {
        Map<String, String> headers = new LinkedHashMap<>();
        try {
            Json.MAPPER.readValue(json, OBJECT).forEach((k, v) -> headers.put(k, v == null ? null : v.toString()));
        } catch (IOException e) {
            throw new SQLException("outbox_dead_letters.headers is not a JSON object: " + e.getMessage(), e);
        }
        return headers;
    }

    private static String rowJson(Row row) throws SQLException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("id", row.id());
        json.put("topic", row.topic());
        json.put("key", row.key());
        try {
            json.put("payload", row.payloadJson() == null ? null : Json.MAPPER.readTree(row.payloadJson()));
            json.put("headers", Json.MAPPER.readTree(row.headersJson()));
        } catch (IOException e) {
            throw new SQLException("outbox dead letter " + row.id() + " holds JSON that does not parse", e);
        }
        json.put("priority", row.priority());
        json.put("created_at", row.createdAt().toString());
        json.put("attempts", row.attempts());
        json.put("last_error", row.lastError());
        json.put("dead_lettered_at", row.deadLetteredAt().toString());
        return Json.write(json);
    }

    private static Row read(ResultSet rs) throws SQLException {
        return new Row(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getInt(6),
                rs.getTimestamp(7).toInstant(),
                rs.getInt(8),
                rs.getString(9),
                rs.getTimestamp(10).toInstant());
    }
}
