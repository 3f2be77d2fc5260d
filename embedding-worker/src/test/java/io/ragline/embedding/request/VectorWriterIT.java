package io.ragline.embedding.request;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Migrations;
import io.ragline.testkit.PostgresSchema;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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
        new Migrations(DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), "test").migrate();
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute(
                    "insert into documents (collection_id, external_id) select 1, 'd' || n from generate_series(1, 200) n");
            // About 1,000 characters of text per chunk, as a 200-token chunk has.
            s.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select d.id, 1, 0, n, (select string_agg(md5((d.id * 10 + n + g)::text), ' ')"
                    + " from generate_series(1, 30) g), 200 from documents d, generate_series(0, 9) n");
            s.execute("analyze chunks");
        }
    }

    @Test
    void writesExactlyTheGivenVectorsAndNothingElse() throws Exception {
        List<Long> ids = chunkIds(0, 3);
        List<float[]> vectors = List.of(vector(0.25f), vector(-1.5f), vector(3.0e-7f));
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            assertThat(VectorWriter.write(c, ids, vectors, "model-a")).isEqualTo(3);
            // A second batch in the same transaction applies only its own rows.
            assertThat(VectorWriter.write(c, chunkIds(3, 1), List.of(vector(2f)), "model-b"))
                    .isEqualTo(1);
            c.commit();
        }

        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement(
                        "select id, embedding::real[], model, embedded_at from chunks where embedding is not null"
                                + " and id < ? order by id")) {
            s.setLong(1, chunkIds(100, 1).get(0)); // the other tests write from the 100th chunk on
            try (ResultSet rs = s.executeQuery()) {
                List<String> models = new ArrayList<>();
                int i = 0;
                while (rs.next()) {
                    Float[] stored = (Float[]) rs.getArray(2).getArray();
                    float expected = i < 3 ? vectors.get(i)[7] : 2f;
                    assertThat(stored).hasSize(384).containsOnly(expected);
                    assertThat(rs.getTimestamp(4)).isNotNull();
                    models.add(rs.getString(3));
                    i++;
                }
                assertThat(models).containsExactly("model-a", "model-a", "model-a", "model-b");
            }
        }
    }

    @Test
    void aBatchReadsItsChunksByPrimaryKeyHoweverLargeTheTable() throws Exception {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            List<Long> ids = chunkIds(100, 500);
            VectorWriter.write(c, ids, ids.stream().map(id -> vector(1f)).toList(), "m"); // creates the temp table
            try (PreparedStatement explain = c.prepareStatement("explain " + VectorWriter.UPDATE)) {
                explain.setString(1, "m");
                Array array = c.createArrayOf("bigint", ids.toArray());
                explain.setArray(2, array);
                StringBuilder plan = new StringBuilder();
                try (ResultSet rs = explain.executeQuery()) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                assertThat(plan.toString()).contains("chunks_pkey").doesNotContain("Seq Scan on chunks");
            }
            c.rollback();
        }
    }

    @Test
    void vectorsOfRealChunksStayInTheRowNotInToast() throws Exception {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            List<Long> ids = chunkIds(1_000, 200);
            VectorWriter.write(c, ids, ids.stream().map(id -> vector(0.5f)).toList(), "m");
            c.commit();
        }
        Object toastBytes = db.queryValue(
                "select pg_relation_size(reltoastrelid) from pg_class" + " where oid = 'chunks'::regclass");
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

    private static float[] vector(float value) {
        float[] v = new float[384];
        java.util.Arrays.fill(v, value);
        return v;
    }
}
