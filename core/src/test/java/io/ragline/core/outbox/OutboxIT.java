package io.ragline.core.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.contracts.Topic;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class OutboxIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final EmbeddingRequestCodec CODEC = new EmbeddingRequestCodec();

    @BeforeAll
    static void migrate() throws SQLException {
        db.execute("insert into collections (name) values ('other')");
    }

    @BeforeEach
    void empty() throws SQLException {
        db.execute("delete from outbox");
        db.execute("delete from documents");
    }

    private record Stored(String topic, String key, String payload, String headers) {}

    private static List<Stored> outbox() throws SQLException {
        List<Stored> rows = new ArrayList<>();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs =
                        s.executeQuery("select topic, key, payload::text, headers::text from outbox order by id")) {
            while (rs.next()) {
                rows.add(new Stored(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
            }
        }
        return rows;
    }

    private static long document(String collection, String id, long version, String status) throws SQLException {
        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement("insert into documents (collection_id, external_id, version,"
                        + " status) select id, ?, ?, ? from collections where name = ? returning id")) {
            s.setString(1, id);
            s.setLong(2, version);
            s.setString(3, status);
            s.setString(4, collection);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Test
    void appendedRowsCarryTopicKeyPayloadAndHeadersInOrder() throws Exception {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            Outbox.append(c, "claude_events.dlq", "github/d-1", "{\"a\":1}", Map.of("ragline.event.id", "7"));
            Outbox.append(c, CODEC, new EmbeddingRequest("default", "x", 4, 2));
            Outbox.append(c, "pipeline-events", null, null, Map.of());
            c.commit();
        }

        assertThat(outbox())
                .containsExactly(
                        new Stored("claude_events.dlq", "github/d-1", "{\"a\": 1}", "{\"ragline.event.id\": \"7\"}"),
                        new Stored(
                                "embedding-requests",
                                "default/x",
                                "{\"id\": \"x\", \"version\": 2, \"document\": 4, \"collection\": \"default\","
                                        + " \"schema_version\": 1}",
                                "{}"),
                        new Stored("pipeline-events", null, null, "{}"));
    }

    @Test
    void aRequestWrittenBySqlDecodesIntoTheRecordJavaWouldHaveWritten() throws Exception {
        long waiting = document("default", "a/b é", 7, "chunked");
        document("default", "done", 1, "embedded");
        document("other", "elsewhere", 1, "chunked");

        int written;
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            written = Outbox.requestEmbeddings(c, "default");
            c.commit();
        }

        assertThat(written).isEqualTo(1);
        List<Stored> rows = outbox();
        assertThat(rows).hasSize(1);
        Stored row = rows.get(0);
        EmbeddingRequest expected = new EmbeddingRequest("default", "a/b é", waiting, 7);
        assertThat(row.topic()).isEqualTo(Topic.EMBEDDING_REQUESTS.topic());
        assertThat(row.key()).isEqualTo(CODEC.key(expected));
        assertThat(CODEC.decode(row.key(), row.payload().getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(expected);
        assertThat(db.queryValue("select payload = '" + CODEC.encode(expected) + "'::jsonb from outbox"))
                .isEqualTo(true);
    }

    @Test
    void manyRowsAppendedInOneCallKeepTheirOrderTombstonesHeadersAndPriorities() throws Exception {
        List<Outbox.Row> rows = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            String key = i % 7 == 0 ? null : "k" + (i % 5);
            String payload = i % 11 == 0 ? null : "{\"n\": " + i + "}";
            rows.add(new Outbox.Row("pipeline-events", key, payload, Map.of("n", String.valueOf(i)), i % 3));
        }
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            Outbox.append(c, rows);
            c.commit();
        }

        List<String> stored = new ArrayList<>();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs =
                        s.executeQuery("select key, payload::text, headers->>'n', priority from outbox order by id")) {
            while (rs.next()) {
                stored.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getInt(4));
            }
        }
        List<String> expected = rows.stream()
                .map(r -> r.key() + "|" + r.payloadJson() + "|" + r.headers().get("n") + "|" + r.priority())
                .toList();
        assertThat(stored).containsExactlyElementsOf(expected);
    }

    @Test
    void bulkRequestsSkipThePerKeyLockOnlyForTheirOwnRows() throws Exception {
        document("default", "a", 1, "chunked");
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            Outbox.requestEmbeddings(c, "default");
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery(
                            "select coalesce(current_setting('ragline.outbox_key_lock', true)," + " '')")) {
                rs.next();
                assertThat(rs.getString(1)).isNotEqualTo("off");
            }
            c.rollback();
        }
    }
}
