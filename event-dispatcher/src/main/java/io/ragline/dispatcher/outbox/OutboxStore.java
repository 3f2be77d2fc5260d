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
import org.postgresql.PGStatement;

/**
 * The outbox table as the dispatcher sees it: the next rows to publish, deleting published ones,
 * counting a row's failures and moving a row Kafka refuses for good to {@code
 * outbox_dead_letters}.
 */
public final class OutboxStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Object>> HEADERS = new TypeReference<>() {};

    /** Deletes the published rows of the array given. */
    static final String DELETE = "delete from outbox where id = any(?)";

    /**
     * The claim and the delete are planned for their own id lists every time, never from a plan
     * cached on the server. Their lists run to a whole batch (5,000 ids): planned with the values,
     * PostgreSQL tests {@code id = any(...)} (14+) and {@code id <> all(...)} (15+) through a hash table;
     * a generic plan (what a server-side prepared statement turns into after five executions when
     * its estimate is no worse) tests each row against the whole list, one id after the other. On a
     * 20,000-row backlog that made the claim ahead, which leaves out the 5,000 rows in flight, 264 ms
     * against 60 ms, and the delete 319 ms against 11 ms (psql and the server's log, 2026-12-06);
     * the extra planning is about 5 ms for a full batch and nothing for small ones.
     * docs/benchmarks.md, "Generic plans".
     */
    private static PreparedStatement plannedEachTime(Connection c, String sql) throws SQLException {
        PreparedStatement s = c.prepareStatement(sql);
        s.unwrap(PGStatement.class).setPrepareThreshold(0);
        return s;
    }

    private final DataSource dataSource;

    /**
     * Whether the last ranked claim still found a row urgent: the next claim then ranks at once
     * instead of reading in id order first, for as long as urgent rows wait. Only a choice of
     * statement (the in-order claim checks for itself); the relay's thread and the claim-ahead
     * thread never claim at the same time, and a stale value would cost a round trip at most.
     */
    private volatile boolean rankNext;

    /** Whether the last claim ran {@link OutboxClaimSql#RANKED} (for the metric). */
    private volatile boolean rankedLast;

    public OutboxStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Whether the next claim ranks at once: the last ranked claim still found a row urgent. */
    public boolean ranking() {
        return rankNext;
    }

    /** Whether the last claim ranked by priority ({@link OutboxClaimSql#RANKED}) rather than read in id order. */
    public boolean rankedLast() {
        return rankedLast;
    }

    public List<OutboxRow> next(int batchSize, int lookahead) throws SQLException {
        return next(List.of(), batchSize, lookahead, List.of(), List.of(), List.of());
    }

    /**
     * Deletes the rows {@code published} (a batch Kafka committed) and reads the next batch, in
     * one round trip: both statements go out together and run in one implicit transaction, so the
     * read sees the delete, and either both happen or neither does. The next batch leaves out every
     * row of the topics in {@code heldTopics}, of the keys in {@code heldKeys} ({@link
     * OutboxRow#orderKey()}) and the rows in {@code heldIds} (rows without a key have no order to
     * keep, so only the row itself waits). The read is {@link OutboxClaimSql#IN_ORDER}; when it finds a row
     * urgent, {@link OutboxClaimSql#RANKED} reads again in a second round trip, after the delete committed (if
     * that read fails, the delete stands; deleting the ids again later finds nothing), and the
     * claims after it rank at once until one finds no row urgent ({@link #rankNext}).
     */
    public List<OutboxRow> next(
            Collection<Long> published,
            int batchSize,
            int lookahead,
            Collection<String> heldTopics,
            Collection<String> heldKeys,
            Collection<Long> heldIds)
            throws SQLException {
        boolean keys = !heldKeys.isEmpty();
        boolean topics = !heldTopics.isEmpty();
        boolean ids = !heldIds.isEmpty();
        try (Connection c = dataSource.getConnection()) {
            OutboxClaimSql.Held held = new OutboxClaimSql.Held(c, heldKeys, heldTopics, heldIds);
            List<OutboxRow> rows = new ArrayList<>();
            Collection<Long> deleting = published;
            rankedLast = false;
            if (!rankNext) {
                Parameters inOrder = (s, at) -> {
                    at = held.bind(s, at); // the probe's
                    at = held.bind(s, at);
                    s.setInt(++at, Math.min(batchSize, lookahead));
                };
                if (!claim(c, OutboxClaimSql.inOrder(keys, topics, ids), deleting, inOrder, rows, true)) {
                    return rows;
                }
                // A row is urgent: rank, in a statement of its own. The delete above is committed;
                // this claim sees the outbox without the rows it deleted.
                rows.clear();
                deleting = List.of();
            }
            rankedLast = true;
            Parameters ranking = (s, at) -> {
                at = held.bind(s, at);
                s.setInt(++at, lookahead);
                s.setInt(++at, batchSize);
                held.bind(s, at); // the probe's
            };
            rankNext = claim(c, OutboxClaimSql.ranked(keys, topics, ids), deleting, ranking, rows, false);
            return rows;
        }
    }

    /**
     * Sends {@code claim} (after the delete of {@code published}, when there are any) and reads its
     * rows into {@code rows}; returns whether its first row says a row is urgent. The in-order claim
     * stops reading there: its rows are then not the claim.
     */
    private static boolean claim(
            Connection c,
            String claim,
            Collection<Long> published,
            Parameters parameters,
            List<OutboxRow> rows,
            boolean stopIfUrgent)
            throws SQLException {
        boolean deletes = !published.isEmpty();
        try (PreparedStatement s = plannedEachTime(c, deletes ? DELETE + "; " + claim : claim)) {
            int at = 0;
            if (deletes) {
                s.setArray(++at, c.createArrayOf("bigint", published.toArray()));
            }
            parameters.bind(s, at);
            boolean isResultSet = s.execute();
            while (!isResultSet) { // the delete's count comes first
                if (s.getUpdateCount() == -1) {
                    throw new SQLException("the outbox claim returned no result set");
                }
                isResultSet = s.getMoreResults();
            }
            try (ResultSet rs = s.getResultSet()) {
                return read(rs, rows, stopIfUrgent);
            }
        }
    }

    /** Binds a claim's parameters after the delete's, from {@code at} (the last bound) on. */
    @FunctionalInterface
    private interface Parameters {
        void bind(PreparedStatement s, int at) throws SQLException;
    }

    /**
     * Reads a claim's rows into {@code rows}; returns whether its first row says a row is urgent
     * (false when there is none), and stops there if {@code stopIfUrgent}.
     */
    private static boolean read(ResultSet rs, List<OutboxRow> rows, boolean stopIfUrgent) throws SQLException {
        boolean urgent = false;
        long now = System.nanoTime();
        while (rs.next()) {
            if (rows.isEmpty()) {
                urgent = rs.getBoolean(9);
                if (urgent && stopIfUrgent) {
                    return true;
                }
            }
            rows.add(new OutboxRow(
                    rs.getLong(1),
                    rs.getString(2),
                    rs.getString(3),
                    rs.getString(4),
                    headers(rs.getString(5)),
                    rs.getTimestamp(6).toInstant(),
                    rs.getInt(7),
                    now - (long) (rs.getDouble(8) * 1e9)));
        }
        return urgent;
    }

    public int delete(Collection<Long> ids) throws SQLException {
        if (ids.isEmpty()) {
            return 0;
        }
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = plannedEachTime(c, DELETE)) {
            Array array = c.createArrayOf("bigint", ids.toArray());
            s.setArray(1, array);
            return s.executeUpdate();
        }
    }

    /**
     * Counts one failure, their own fault, of each row in {@code ids}; returns each row's attempts
     * so far (a row already gone is left out).
     */
    public Map<Long, Integer> recordFailures(Collection<Long> ids, String error) throws SQLException {
        Map<Long, Integer> attempts = new LinkedHashMap<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("update outbox set attempts = attempts + 1, last_error = ?"
                        + " where id = any(?) returning id, attempts")) {
            s.setString(1, truncate(error));
            s.setArray(2, c.createArrayOf("bigint", ids.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    attempts.put(rs.getLong(1), rs.getInt(2));
                }
            }
        }
        return attempts;
    }

    /** Moves the rows {@code ids} to {@code outbox_dead_letters} in one transaction; returns how many moved. */
    public int deadLetter(Collection<Long> ids) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("with moved as (delete from outbox where id = any(?)"
                        + " returning id, topic, key, payload, headers, priority, created_at, attempts, last_error)"
                        + " insert into outbox_dead_letters (id, topic, key, payload, headers, priority, created_at,"
                        + " attempts, last_error) select * from moved")) {
            s.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            return s.executeUpdate();
        }
    }

    /** Rows waiting (counted up to {@code cap}), the age of the oldest in seconds, and dead letters. */
    public Backlog backlog(int cap) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("select (select count(*) from (select 1 from outbox limit ?)"
                        + " b), coalesce(extract(epoch from clock_timestamp() - (select created_at from outbox order"
                        + " by id limit 1)), 0), (select count(*) from outbox_dead_letters)")) {
            s.setInt(1, cap);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return new Backlog(rs.getLong(1), rs.getDouble(2), rs.getLong(3));
            }
        }
    }

    /** The schema's Kafka {@code transactional.id}, shared by all its dispatchers (migration V4). */
    public String transactionalId() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s =
                        c.prepareStatement("select transactional_id from dispatcher_identity where name = 'outbox'");
                ResultSet rs = s.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("dispatcher_identity has no 'outbox' row: were the migrations applied?");
            }
            return rs.getString(1);
        }
    }

    public record Backlog(long rows, double oldestAgeSeconds, long deadLetters) {}

    private static String truncate(String error) {
        return error == null || error.length() <= 2000 ? error : error.substring(0, 2000) + "…";
    }

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
