package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** V10 moves the vectors that V1-V9 kept in chunks into chunk_embeddings, and search goes on finding them. */
class ChunkEmbeddingsUpgradeIT {
    @RegisterExtension
    static final PostgresSchema db = PostgresSchema.unmigrated();

    @Test
    void vectorsWrittenBeforeTheUpgradeMoveAndStaySearchable() throws Exception {
        Migrations migrations =
                new Migrations(DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), "upgrade-it");
        assertThat(migrations.migrate("9").version()).isEqualTo("9");
        // 'broken' was marked embedded without vectors by the bug V10 repairs; 'waiting' waits.
        db.execute("insert into documents (collection_id, external_id, title, status, version) values"
                + " (1, 'near', 'Near', 'embedded', 1), (1, 'far', 'Far', 'embedded', 1),"
                + " (1, 'waiting', 'W', 'chunked', 3), (1, 'broken', 'B', 'embedded', 2)");
        db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count,"
                + " embedding, model, embedded_at) select id, 1, 1, 0, title, 1, case external_id"
                + " when 'near' then " + vector(1.0) + " when 'far' then " + vector(-1.0) + " end,"
                + " case when embedded_at is null and status = 'embedded' and external_id in ('near', 'far')"
                + " then 'all-MiniLM-L6-v2' end,"
                + " case when external_id in ('near', 'far') then timestamptz '2026-01-02 03:04:05+00' end"
                + " from documents");
        db.execute("delete from outbox");

        assertThat(migrations.migrate().applied()).isPositive();

        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("select d.external_id, e.model, e.embedded_at = timestamptz"
                    + " '2026-01-02 03:04:05+00', e.collection_id, vector_dims(e.embedding) from chunk_embeddings e"
                    + " join chunks ch on ch.id = e.chunk_id join documents d on d.id = ch.document_id order by 1")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("far");
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("near");
                assertThat(rs.getString(2)).isEqualTo("all-MiniLM-L6-v2");
                assertThat(rs.getBoolean(3)).isTrue();
                assertThat(rs.getInt(4)).isEqualTo(1);
                assertThat(rs.getInt(5)).isEqualTo(384);
                assertThat(rs.next()).as("the chunk without a vector has none").isFalse();
            }
            assertThat(db.queryValue("select string_agg(external_id || ':' || status, ' ' order by external_id)"
                            + " from documents"))
                    .isEqualTo("broken:chunked far:embedded near:embedded waiting:chunked");
            assertThat(db.queryValue("select string_agg(key || ' v' || (payload->>'version'), ' ' order by key) from"
                            + " outbox where topic = 'embedding-requests'"))
                    .as("the documents without vectors are asked for again, under their current version")
                    .isEqualTo("default/broken v2 default/waiting v3");
            assertThat(db.queryValue("select count(*) from information_schema.columns where table_schema = '"
                            + db.schema() + "' and table_name = 'chunks' and column_name in ('embedding', 'model',"
                            + " 'embedded_at')"))
                    .isEqualTo(0L);
            assertThat(db.queryValue("select count(*) from pg_indexes where schemaname = '" + db.schema()
                            + "' and indexname = 'chunk_embeddings_c1_idx'"))
                    .isEqualTo(1L);
            try (ResultSet rs = s.executeQuery(
                    "select document_id from search_documents(" + vector(0.9) + ", 5, 'default', '{}')")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("near");
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("far");
                assertThat(rs.next()).isFalse();
            }
        }
    }

    private static String vector(double first) {
        StringBuilder v = new StringBuilder("'[").append(first);
        for (int i = 1; i < 384; i++) {
            v.append(",0.1");
        }
        return v.append("]'::vector").toString();
    }
}
