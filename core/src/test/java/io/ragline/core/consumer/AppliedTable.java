package io.ragline.core.consumer;

import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The effect tests look at: one row per applied record, with no unique key, so a record applied
 * twice shows up as two rows. Values 'refused' violate a check constraint (a record the database
 * refuses for its content); values starting with 'poison' do not decode.
 */
final class AppliedTable {
    private AppliedTable() {}

    /** Migrates the schema (as a worker would at start-up), then adds the test's table. */
    static void create(PostgresSchema db) throws SQLException {
        new io.ragline.core.db.Migrations(
                        io.ragline.core.config.DatabaseUrl.parse(db.databaseUrl())
                                .url()
                                .orElseThrow(),
                        db.schema(),
                        "test")
                .migrate();
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("create table if not exists applied (topic text not null, partition int not null,"
                    + " record_offset bigint not null, key text, value text check (value <> 'refused'),"
                    + " applied_at timestamptz not null default clock_timestamp())");
        }
    }

    static RecordDecoder<String> decoder() {
        return r -> {
            String v = r.value() == null ? null : new String(r.value(), StandardCharsets.UTF_8);
            if (v != null && v.startsWith("poison")) {
                throw new PoisonRecordException("value is not a document: it starts with 'poison'");
            }
            return v;
        };
    }

    static BatchWriter<String> writer(long sleepMillis) {
        return (records, c) -> {
            insert(records, c);
            if (sleepMillis > 0) {
                Thread.sleep(sleepMillis); // a slow handler, inside the transaction
            }
        };
    }

    static void insert(List<InboundRecord<String>> records, Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "insert into applied (topic, partition, record_offset, key, value) values (?, ?, ?, ?, ?)")) {
            for (InboundRecord<String> r : records) {
                s.setString(1, r.topic());
                s.setInt(2, r.partition());
                s.setLong(3, r.offset());
                s.setString(4, r.key());
                s.setString(5, r.value());
                s.addBatch();
            }
            s.executeBatch();
        }
    }

    /** Rows applied from {@code topic}: a record applied twice counts twice. */
    static long rows(PostgresSchema db, String topic) throws SQLException {
        return (long) db.queryValue("select count(*) from applied where topic = '" + topic + "'");
    }

    /** Distinct records applied from {@code topic}. */
    static long distinct(PostgresSchema db, String topic) throws SQLException {
        return (long) db.queryValue(
                "select count(distinct (partition, record_offset)) from applied where topic = '" + topic + "'");
    }
}
