package io.ragline.core.outbox;

import io.ragline.contracts.Json;
import io.ragline.contracts.MessageCodec;
import io.ragline.contracts.Topic;
import io.ragline.contracts.status.DocumentStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * The one way Java writes to the transactional outbox: a row (topic before {@code
 * RAGLINE_TOPIC_PREFIX}, key, JSON payload, headers) in the caller's transaction, which the
 * event-dispatcher publishes once the transaction commits, in id order per key. The table's {@code
 * outbox_key_order} trigger takes the per-key lock that makes id order commit order; SQL writes
 * the outbox itself only where it must work in bulk or inside the database: the {@code
 * claude_events} trigger and replay, {@code cancel_training_job}, {@code request_training}, and
 * {@link #requestEmbeddings} (the SQL function {@code request_embeddings}).
 */
public final class Outbox {
    static final String INSERT =
            "insert into outbox (topic, key, payload, headers, priority) values (?, ?, ?::jsonb, ?::jsonb, ?)";

    /**
     * Several rows in one statement: the driver would otherwise run a batch as one execution per
     * row (20,000 rows on 100 keys: about 41,000 rows/s that way, 50,000-60,000 as one statement;
     * {@code OutboxInsertBenchmark}).
     * The rows are inserted in list order ({@code ordinality}), so ids, drawn as each row is
     * inserted (by the per-key trigger or the column default), follow the list.
     */
    static final String INSERT_MANY = "insert into outbox (topic, key, payload, headers, priority)"
            + " select r.topic, r.key, r.payload::jsonb, r.headers::jsonb, r.priority"
            + " from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::int[])"
            + " with ordinality as r(topic, key, payload, headers, priority, n) order by r.n";

    private Outbox() {}

    /** One message, keyed and encoded by its topic's codec. */
    public static <T> void append(Connection c, MessageCodec<T> codec, T message) throws SQLException {
        append(c, codec.topic().topic(), codec.key(message), codec.encode(message), Map.of());
    }

    /**
     * One row.
     *
     * @param topic the topic before the prefix (a {@link Topic} name, or a dead-letter topic)
     * @param key the Kafka key, or null for none (no order is kept between rows without a key)
     * @param payloadJson the value as JSON text, or null for a tombstone
     * @param headers Kafka headers (UTF-8 values)
     */
    public static void append(Connection c, String topic, String key, String payloadJson, Map<String, String> headers)
            throws SQLException {
        append(c, List.of(new Row(topic, key, payloadJson, headers)));
    }

    /**
     * A row of {@link #append(Connection, List)}.
     *
     * @param priority the dispatcher publishes rows of a higher priority first (never reordering a
     *     key's rows); 0 unless the row carries one over (an event's, a redriven dead letter's)
     */
    public record Row(String topic, String key, String payloadJson, Map<String, String> headers, int priority) {
        /** A row of priority 0. */
        public Row(String topic, String key, String payloadJson, Map<String, String> headers) {
            this(topic, key, payloadJson, headers, 0);
        }
    }

    /** Several rows in one round trip, in list order (their ids, and so their order per key). */
    public static void append(Connection c, List<Row> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        if (rows.size() == 1) {
            Row r = rows.get(0);
            try (PreparedStatement s = c.prepareStatement(INSERT)) {
                s.setString(1, r.topic());
                s.setString(2, r.key());
                s.setString(3, r.payloadJson());
                s.setString(4, headersJson(r));
                s.setInt(5, r.priority());
                s.executeUpdate();
            }
            return;
        }
        int n = rows.size();
        String[] topics = new String[n];
        String[] keys = new String[n];
        String[] payloads = new String[n];
        String[] headers = new String[n];
        Integer[] priorities = new Integer[n];
        for (int i = 0; i < n; i++) {
            Row r = rows.get(i);
            topics[i] = r.topic();
            keys[i] = r.key();
            payloads[i] = r.payloadJson();
            headers[i] = headersJson(r);
            priorities[i] = r.priority();
        }
        try (PreparedStatement s = c.prepareStatement(INSERT_MANY)) {
            s.setArray(1, c.createArrayOf("text", topics));
            s.setArray(2, c.createArrayOf("text", keys));
            s.setArray(3, c.createArrayOf("text", payloads));
            s.setArray(4, c.createArrayOf("text", headers));
            s.setArray(5, c.createArrayOf("int4", priorities));
            s.executeUpdate();
        }
    }

    private static String headersJson(Row r) {
        return Json.write(r.headers() == null ? Map.of() : r.headers());
    }

    /**
     * Asks again for the embeddings of every document of {@code collection} in status {@code
     * chunked}, in the caller's transaction, through the SQL function {@code request_embeddings}
     * (migration V12), whose payload is the one {@code EmbeddingRequestCodec} writes. Their order
     * against a concurrent ingest does not matter (a request names its version, an older one is
     * obsolete), so the per-key lock is not taken: a large collection would otherwise need a lock
     * per document.
     *
     * @return the requests written
     */
    public static int requestEmbeddings(Connection c, String collection) throws SQLException {
        return requestEmbeddings(c, collection, DocumentStatus.CHUNKED);
    }

    /**
     * As {@link #requestEmbeddings(Connection, String)}, for the documents in {@code status}: a
     * migration asks for the {@code embedded} ones (the vectors of its new generation).
     */
    public static int requestEmbeddings(Connection c, String collection, DocumentStatus status) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select request_embeddings(?, ?)")) {
            s.setString(1, collection);
            s.setString(2, status.stored());
            try (var rs = s.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
