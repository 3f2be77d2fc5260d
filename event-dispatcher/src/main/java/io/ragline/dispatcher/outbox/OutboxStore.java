package io.ragline.dispatcher.outbox;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** The outbox table as the dispatcher sees it: the next rows to publish, and deleting published ones. */
public final class OutboxStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Object>> HEADERS = new TypeReference<>() {};

    /**
     * Among the oldest {@code lookahead} rows, a row's effective priority is the highest priority
     * of itself and every later row of the same topic and key. Sorting by it (then id) lets an
     * urgent row overtake other keys' waiting rows while the rows of one key stay in id order.
     */
    static final String NEXT = "with oldest as (select id, topic, key, payload::text as payload, headers::text as"
            + " headers, priority, created_at from outbox order by id limit ?), ranked as (select *, max(priority)"
            + " over (partition by topic, key order by id desc rows unbounded preceding) as effective from oldest)"
            + " select id, topic, key, payload, headers, created_at from ranked order by effective desc, id limit ?";

    private final DataSource dataSource;

    public OutboxStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public List<OutboxRow> next(int batchSize, int lookahead) throws SQLException {
        List<OutboxRow> rows = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement(NEXT)) {
            s.setInt(1, lookahead);
            s.setInt(2, batchSize);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(new OutboxRow(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getString(4),
                            headers(rs.getString(5)),
                            rs.getTimestamp(6).toInstant()));
                }
            }
        }
        return rows;
    }

    public int delete(Collection<Long> ids) throws SQLException {
        if (ids.isEmpty()) {
            return 0;
        }
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("delete from outbox where id = any(?)")) {
            Array array = c.createArrayOf("bigint", ids.toArray());
            s.setArray(1, array);
            return s.executeUpdate();
        }
    }

    /** Rows waiting (counted up to {@code cap}) and the age of the oldest, in seconds. */
    public Backlog backlog(int cap) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("select (select count(*) from (select 1 from outbox limit ?)"
                        + " b), coalesce(extract(epoch from clock_timestamp() - (select created_at from outbox order"
                        + " by id limit 1)), 0)")) {
            s.setInt(1, cap);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return new Backlog(rs.getLong(1), rs.getDouble(2));
            }
        }
    }

    public record Backlog(long rows, double oldestAgeSeconds) {}

    private static Map<String, String> headers(String json) {
        if (json == null || json.isBlank() || "{}".equals(json)) {
            return Map.of();
        }
        try {
            Map<String, String> out = new LinkedHashMap<>();
            JSON.readValue(json, HEADERS).forEach((k, v) -> out.put(k, v == null ? null : String.valueOf(v)));
            return out;
        } catch (java.io.IOException e) {
            throw new IllegalStateException("outbox headers are not a JSON object", e);
        }
    }
}
