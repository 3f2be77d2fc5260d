package io.ragline.embedding.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class VectorWriterIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final int CHUNKS = 2_000;

    @BeforeAll
    static void chunksOfRealWidth() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute(
                    "insert into documents (collection_id, external_id) select 1, 'd' || n from generate_series(1, 200) n");
            // About 1,000 characters of text per chunk, as a 200-token chunk has.
            s.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select d.id, 1, 0, n, (select string_agg(md5((d.id * 10 + n + g)::text), ' ')"
                    + " from generate_series(1, 30) g), 200 from documents d, generate_series(0, 9) n");
        }
        // A thousand vectors already there (the tests write below the 1,000th chunk).
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            List<Long> ids = chunkIds(1_000, 1_000);
            VectorWriter.write(
                    c, 1, ids, ids.stream().map(id -> vector(384, 0.5f)).toList(), "m");
            c.commit();
        }
        db.execute("analyze chunks");
        db.execute("analyze chunk_embeddings");
    }

    @Test
    void writesExactlyTheGivenVectorsAndNothingElse() throws Exception {
        List<Long> ids = chunkIds(0, 3);
        List<float[]> vectors = List.of(vector(384, 0.25f), vector(384, -1.5f), vector(384, 3.0e-7f));
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            assertThat(VectorWriter.write(c, 1, ids, vectors, "model-a")).isEqualTo(3);
            // A second batch in the same transaction adds only its own rows.
            assertThat(VectorWriter.write(c, 1, chunkIds(3, 1), List.of(vector(384, 2f)), "model-b"))
                    .isEqualTo(1);
            c.commit();
        }

        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement("select chunk_id, embedding::real[], model, embedded_at,"
                        + " collection_id from chunk_embeddings where chunk_id < ? order by chunk_id")) {
            s.setLong(1, chunkIds(100, 1).get(0)); // the other tests write from the 100th chunk on
            try (ResultSet rs = s.executeQuery()) {
                List<String> models = new ArrayList<>();
                List<Long> written = new ArrayList<>();
                int i = 0;
                while (rs.next()) {
                    written.add(rs.getLong(1));
                    Float[] stored = (Float[]) rs.getArray(2).getArray();
                    float expected = i < 3 ? vectors.get(i)[7] : 2f;
                    assertThat(stored).hasSize(384).containsOnly(expected);
                    assertThat(rs.getTimestamp(4)).isNotNull();
                    assertThat(rs.getInt(5)).isEqualTo(1);
                    models.add(rs.getString(3));
                    i++;
                }
                assertThat(written).containsExactlyElementsOf(chunkIds(0, 4));
                assertThat(models).containsExactly("model-a", "model-a", "model-a", "model-b");
            }
        }
    }

    @Test
    void aChunkHasOneVectorAndTakesItAlongWhenDeleted() throws Exception {
        List<Long> ids = chunkIds(100, 10);
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            VectorWriter.write(
                    c, 1, ids, ids.stream().map(id -> vector(384, 1f)).toList(), "m");
            c.commit();
            assertThatThrownBy(() -> VectorWriter.write(c, 1, ids.subList(0, 1), List.of(vector(384, 1f)), "m"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("chunk_embeddings_pkey");
            c.rollback();
        }
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("delete from chunks where id in (" + ids.get(0) + ", " + ids.get(1) + ")");
            // By primary key: a document replaced must not scan every vector of the schema.
            try (ResultSet rs = s.executeQuery("select coalesce(seq_scan, 0), coalesce(idx_scan, 0) from"
                    + " pg_stat_xact_user_tables where relid = 'chunk_embeddings'::regclass")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1))
                        .as("sequential scans of chunk_embeddings")
                        .isZero();
                assertThat(rs.getLong(2)).isPositive();
            }
            c.commit();
        }
        assertThat((long) db.queryValue("select count(*) from chunk_embeddings where chunk_id in ("
                        + ids.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")) + ")"))
                .isEqualTo(8);
        db.execute("delete from documents where id = (select document_id from chunks where id = " + ids.get(2) + ")");
        assertThat((long) db.queryValue("select count(*) from chunk_embeddings e where not exists"
                        + " (select 1 from chunks ch where ch.id = e.chunk_id)"))
                .as("vectors of a deleted document")
                .isZero();
    }

    @Test
    void wideVectorsStayInTheRowNotInToast() throws Exception {
        db.execute("insert into collections (name, dimensions) values ('wide', 1536)");
        db.execute(
                "insert into documents (collection_id, external_id) select id, 'w' from collections where name = 'wide'");
        db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                + " select d.id, d.collection_id, 0, n, 'x', 1 from documents d, generate_series(0, 49) n"
                + " where d.external_id = 'w'");
        int wide = ((Number) db.queryValue("select id from collections where name = 'wide'")).intValue();
        List<Long> ids = new ArrayList<>();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select id from chunks where collection_id = " + wide)) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            // 1,536 dimensions are 6,148 bytes: past the default 2 kB threshold, within the row's 8 kB.
            VectorWriter.write(
                    c, wide, ids, ids.stream().map(id -> vector(1536, 0.5f)).toList(), "m");
            c.commit();
        }
        Object toastBytes = db.queryValue(
                "select pg_relation_size(reltoastrelid) from pg_class where oid = 'chunk_embeddings'::regclass");
        assertThat(((Number) toastBytes).longValue()).isZero();
    }

    private static List<Long> chunkIds(int offset, int count) throws Exception {
        List<Long> ids = new ArrayList<>();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs =
                        s.executeQuery("select id from chunks order by id offset " + offset + " limit " + count)) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        assertThat(ids).hasSize(count).as("%d chunks exist", CHUNKS);
        return ids;
    }

    private static float[] vector(int dimensions, float value) {
        float[] v = new float[dimensions];
        java.util.Arrays.fill(v, value);
        return v;
    }
}
