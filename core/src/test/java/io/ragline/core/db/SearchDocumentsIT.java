package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code search_documents} (V19): vector, text and hybrid modes, one hit per document with its
 * other matching chunks, context, min_score, and a filter matching 1 % of a collection still
 * answering k rows, the rows of an exact scan.
 */
class SearchDocumentsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final String QUERY = "[1,0,0,0]";

    @BeforeAll
    static void collections() throws SQLException {
        db.execute("insert into collections (name, dimensions) values ('modes', 4)");
        // Thirty documents near the query about something else; one far from it about foxes.
        for (int i = 0; i < 30; i++) {
            document(
                    "modes",
                    "near-" + i,
                    "{}",
                    List.of("Quarterly revenue figures " + i),
                    List.of(vector(1, 0.01 * (i + 1))));
        }
        document("modes", "fox", "{}", List.of("The quick brown fox jumps over the lazy dog"), List.of("[0,0,0,1]"));
        // One document of five chunks, all near the query, the middle one nearest.
        document(
                "modes",
                "long",
                "{}",
                List.of("chunk zero", "chunk one", "chunk two", "chunk three", "chunk four"),
                List.of(vector(1, 0.02), vector(1, 0.01), vector(1, 0), vector(1, 0.01), vector(1, 0.5)));
    }

    static String vector(double x, double y) {
        return "[" + x + "," + y + ",0,0]";
    }

    /** A document of {@code collection} with one chunk per content, each with its vector. */
    static void document(String collection, String id, String metadata, List<String> contents, List<String> vectors)
            throws SQLException {
        try (Connection c = db.connect()) {
            try (PreparedStatement s = c.prepareStatement("insert into documents (collection_id, external_id, title,"
                    + " metadata, status) select id, ?, ?, ?::jsonb, 'embedded' from collections where name = ?")) {
                s.setString(1, id);
                s.setString(2, "Title " + id);
                s.setString(3, metadata);
                s.setString(4, collection);
                s.execute();
            }
            try (PreparedStatement s = c.prepareStatement("with ch as (insert into chunks (document_id,"
                    + " collection_id, document_version, seq, content, token_count) select d.id, d.collection_id, 0,"
                    + " ?, ?, 3 from documents d join collections k on k.id = d.collection_id where d.external_id = ?"
                    + " and k.name = ? returning id, collection_id) insert into chunk_embeddings (chunk_id,"
                    + " collection_id, embedding, model) select id, collection_id, ?::vector, 'm' from ch")) {
                for (int i = 0; i < contents.size(); i++) {
                    s.setInt(1, i);
                    s.setString(2, contents.get(i));
                    s.setString(3, id);
                    s.setString(4, collection);
                    s.setString(5, vectors.get(i));
                    s.addBatch();
                }
                s.executeBatch();
            }
        }
    }

    record Row(String documentId, int seq, double score, String matching, String context, Double vector, Double text) {}

    static List<Row> search(Connection c, String sql) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select document_id, seq, similarity, matching_chunks::text,"
                        + " context::text, vector_score, text_score from " + sql)) {
            while (rs.next()) {
                rows.add(new Row(
                        rs.getString(1),
                        rs.getInt(2),
                        rs.getDouble(3),
                        rs.getString(4),
                        rs.getString(5),
                        (Double) rs.getObject(6),
                        (Double) rs.getObject(7)));
            }
        }
        return rows;
    }

    static List<Row> search(String sql) throws SQLException {
        try (Connection c = db.connect()) {
            return search(c, sql);
        }
    }

    static List<String> ids(List<Row> rows) {
        return rows.stream().map(Row::documentId).toList();
    }

    @Test
    void aTextOnlyMatchIsFoundByTextAndHybridButNotByTheVectorOfAnUnrelatedQuery() throws SQLException {
        assertThat(ids(search("search_documents('" + QUERY + "', 5, 'modes')"))).doesNotContain("fox");

        List<Row> text = search("search_documents(null, 5, 'modes', mode => 'text', query_text => 'foxes jumping')");
        assertThat(ids(text)).containsExactly("fox");
        assertThat(text.get(0).score())
                .isBetween(0.0, 1.0)
                .isEqualTo(text.get(0).text());
        assertThat(text.get(0).vector()).isNull();

        // The collection is small: every chunk is in the vector ranking's candidates, the fox last
        // (36th); first in the text ranking, it comes first: 1/61 + 1/96 beats 1/61 alone.
        List<Row> hybrid = search(
                "search_documents('" + QUERY + "', 5, 'modes', mode => 'hybrid'," + " query_text => 'foxes jumping')");
        assertThat(ids(hybrid)).hasSize(5).startsWith("fox").contains("long");
        Row fox = hybrid.get(0);
        assertThat(fox.text()).isPositive();
        assertThat(fox.vector()).isEqualTo(0.0, Offset.offset(1e-9));
        assertThat(fox.score()).isEqualTo(1.0 / 61 + 1.0 / 96, Offset.offset(1e-9));
        assertThat(hybrid.get(1).score()).isEqualTo(1.0 / 61, Offset.offset(1e-9));
        assertThat(hybrid.get(1).text()).isNull();
    }

    @Test
    void aHitIsADocumentWithItsOtherMatchingChunksUnlessAllChunksAreAskedFor() throws SQLException {
        List<Row> grouped = search("search_documents('" + QUERY + "', 3, 'modes')");
        assertThat(ids(grouped)).doesNotHaveDuplicates().hasSize(3);
        Row best = grouped.get(0);
        assertThat(best.documentId()).isEqualTo("long");
        assertThat(best.seq()).isEqualTo(2);
        assertThat(best.matching()).isEqualTo("{0,1,3,4}");
        assertThat(best.score()).isEqualTo(1.0, Offset.offset(1e-6));

        List<Row> chunks = search("search_documents('" + QUERY + "', 3, 'modes', group_by_document => false)");
        assertThat(chunks).extracting(Row::documentId).containsExactly("long", "near-0", "long");
        assertThat(chunks).extracting(Row::matching).containsOnly("{}");
    }

    @Test
    void contextAddsTheNeighbouringChunksOfEachHit() throws SQLException {
        Row hit = search("search_documents('" + QUERY + "', 1, 'modes', context_chunks => 1)")
                .get(0);
        assertThat(hit.context())
                .isEqualTo("[{\"seq\": 1, \"content\": \"chunk one\"}, {\"seq\": 3, \"content\": \"chunk three\"}]");
        Row edge = search("search_documents('[1,0.5,0,0]', 1, 'modes', group_by_document => false,"
                        + " context_chunks => 2)")
                .get(0);
        assertThat(edge.documentId()).isEqualTo("long");
        assertThat(edge.seq()).isEqualTo(4);
        assertThat(edge.context()).contains("\"seq\": 2").contains("\"seq\": 3").doesNotContain("\"seq\": 1");
        assertThat(search("search_documents('" + QUERY + "', 1, 'modes')")
                        .get(0)
                        .context())
                .isEqualTo("[]");
    }

    @Test
    void minScoreDropsChunksBelowIt() throws SQLException {
        List<Row> rows = search("search_documents('" + QUERY + "', 50, 'modes', min_score => 0.9999)");
        assertThat(rows).isNotEmpty().allSatisfy(r -> assertThat(r.score()).isGreaterThanOrEqualTo(0.9999));
        assertThat(ids(rows)).contains("long").doesNotContain("fox", "near-29");
        Row lng = rows.stream()
                .filter(r -> r.documentId().equals("long"))
                .findFirst()
                .orElseThrow();
        assertThat(lng.matching()).isEqualTo("{1,3}"); // chunk 0 (0.9998) and 4 are below it
        assertThat(search("search_documents('" + QUERY + "', 5, 'modes', min_score => 1.5)"))
                .isEmpty();
    }

    @Test
    void badArgumentsAreRefusedAsInvalidParameterValues() {
        for (String call : List.of(
                "search_documents('" + QUERY + "', 5, 'modes', mode => 'fuzzy')",
                "search_documents(null, 5, 'modes')",
                "search_documents('" + QUERY + "', 5, 'modes', mode => 'hybrid')",
                "search_documents(null, 5, 'modes', mode => 'text', query_text => '  ')",
                "search_documents('" + QUERY + "', 5, 'modes', context_chunks => 6)")) {
            assertThatThrownBy(() -> search(call))
                    .as(call)
                    .isInstanceOfSatisfying(
                            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22023"));
        }
    }

    @Test
    void theOldFourArgumentCallStillAnswersTheSameColumns() throws SQLException {
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select chunk_id, document_id, title, content, metadata, similarity"
                        + " from search_documents('" + QUERY + "'::vector, 2, 'modes', '{}'::jsonb)")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString("document_id")).isEqualTo("long");
            assertThat(rs.getString("title")).isEqualTo("Title long");
        }
    }

    @Test
    void theTextSearchConfigurationIsFixedOnceCreated() {
        assertThatThrownBy(
                        () -> db.execute("update collections set text_search_config = 'simple' where name = 'modes'"))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("changeable only through a migration");
    }

    @Test
    void textSearchIsServedByTheCollectionsFullTextIndex() throws Exception {
        String index = "chunks_text_c" + db.queryValue("select id from collections where name = 'modes'") + "_idx";
        assertThat(db.queryValue("select indexdef from pg_indexes where schemaname = current_schema() and indexname = '"
                        + index + "'"))
                .asString()
                .contains("USING gin (tsv) WHERE (collection_id = ");
        long before = scans(index);
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("set local enable_seqscan = off"); // a small table: the planner would read it whole
            assertThat(ids(search(c, "search_documents(null, 5, 'modes', mode => 'text', query_text => 'fox')")))
                    .containsExactly("fox");
            c.commit();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> scans(index) > before);
    }

    @Test
    void aChunkIsIndexedWithItsCollectionsTextSearchConfiguration() throws SQLException {
        db.execute("insert into collections (name, dimensions, text_search_config) values ('plain', 4, 'simple')");
        document("plain", "foxes", "{}", List.of("Foxes were running"), List.of(vector(1, 0)));
        assertThat(db.queryValue("select tsv = to_tsvector('simple', content) from chunks"
                        + " where content = 'Foxes were running'"))
                .isEqualTo(true);
        // 'simple' neither stems nor drops stop words: only the very word is found.
        assertThat(ids(search("search_documents(null, 5, 'plain', mode => 'text', query_text => 'fox')")))
                .isEmpty();
        assertThat(ids(search("search_documents(null, 5, 'plain', mode => 'text', query_text => 'were foxes')")))
                .containsExactly("foxes");
        assertThat(ids(search("search_documents(null, 5, 'modes', mode => 'text', query_text => 'were foxes')")))
                .containsExactly("fox"); // english: "were" is a stop word, "foxes" is "fox"
    }

    /** The index's scans as the statistics say; a backend reports its own at most each second. */
    private static long scans(String index) throws SQLException {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("select pg_stat_clear_snapshot()");
            try (ResultSet rs = s.executeQuery("select coalesce(sum(idx_scan), 0) from pg_stat_user_indexes"
                    + " where schemaname = current_schema() and indexrelname = '" + index + "'")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * 2,000 one-chunk documents of small vectors, 20 of them (1 %) tagged rare: k = 10 with the
     * filter answers 10 rows, the 10 of an exact scan, whether the planner picks the HNSW index
     * (forced here: no sequential scan, no sort) or not.
     */
    @Test
    void aFilterMatchingOnePercentStillAnswersKRowsTheRowsOfAnExactScan() throws SQLException {
        db.execute("insert into collections (name, dimensions) values ('many', 8)");
        db.execute("insert into documents (collection_id, external_id, metadata, status)"
                + " select k.id, 'doc-' || i, jsonb_build_object('kind', case when i % 100 = 7 then 'rare' else"
                + " 'common' end, 'n', i), 'embedded' from collections k, generate_series(1, 2000) i"
                + " where k.name = 'many'");
        db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                + " select d.id, d.collection_id, 0, 0, 'text ' || d.external_id, 2 from documents d"
                + " join collections k on k.id = d.collection_id where k.name = 'many'");
        // Deterministic pseudo-random vectors from the chunk's id.
        db.execute("insert into chunk_embeddings (chunk_id, collection_id, embedding, model)"
                + " select ch.id, ch.collection_id, (select array_agg(sin(ch.id * 7.1 + j * 3.3))"
                + " from generate_series(1, 8) j)::vector, 'm' from chunks ch join collections k"
                + " on k.id = ch.collection_id where k.name = 'many'");
        db.execute("analyze chunk_embeddings");
        String q = "(select array_agg(cos(j * 1.7))::vector from generate_series(1, 8) j)";

        List<String> exact = new ArrayList<>();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select d.external_id from chunk_embeddings e join chunks ch on"
                        + " ch.id = e.chunk_id join documents d on d.id = ch.document_id join collections k on"
                        + " k.id = e.collection_id where k.name = 'many' and d.metadata @> '{\"kind\": \"rare\"}'"
                        + " order by e.embedding <=> " + q + " limit 10")) {
            while (rs.next()) {
                exact.add(rs.getString(1));
            }
        }
        assertThat(exact).hasSize(10);

        for (String filter : List.of("{\"kind\": \"rare\"}", "{\"kind\": {\"$in\": [\"rare\"]}}")) {
            for (boolean grouped : List.of(true, false)) {
                String call = "search_documents(" + q + ", 10, 'many', '" + filter + "', group_by_document => "
                        + grouped + ")";
                assertThat(ids(search(call))).as(call).containsExactlyElementsOf(exact);
                try (Connection c = db.connect();
                        Statement s = c.createStatement()) {
                    c.setAutoCommit(false);
                    s.execute("set local enable_seqscan = off");
                    s.execute("set local enable_sort = off");
                    assertThat(ids(search(c, call))).as(call + " by the index").containsExactlyElementsOf(exact);
                    c.rollback();
                }
            }
        }
    }
}
