package io.ragline.core.collections;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A collection's distance, index type and storage against real Postgres and pgvector: the search
 * (search_documents, through vector_search_terms and prepare_vector_search) ranks with the
 * collection's metric, through its index, as an exact scan would.
 */
class SearchIndexIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final int DIMENSIONS = 8;
    private static final int VECTORS = 300;
    private static final int K = 10;

    private final CollectionRegistry registry = new CollectionRegistry(CollectionRegistryIT.BUNDLED);

    @BeforeEach
    void empty() throws SQLException {
        db.execute("delete from outbox");
        db.execute("delete from collections where name <> 'default'");
    }

    static Stream<Arguments> everyDistanceIndexAndStorage() {
        List<Arguments> all = new ArrayList<>();
        for (String distance : SearchIndex.DISTANCES) {
            for (String type : SearchIndex.TYPES) {
                for (boolean halfvec : new boolean[] {false, true}) {
                    all.add(Arguments.of(distance, type, halfvec));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1} halfvec={2}")
    @MethodSource("everyDistanceIndexAndStorage")
    void aSearchRanksByTheCollectionsMetricThroughItsIndexAsAnExactScanWould(
            String distance, String type, boolean halfvec) throws Exception {
        String name = "c-" + distance.replace('_', '-') + "-" + type + (halfvec ? "-half" : "");
        // Options that make this small index exact: the comparison is then with no tolerance.
        SearchIndex index = type.equals("hnsw")
                ? new SearchIndex(distance, type, 16, 64, 200, null, null, halfvec, null)
                : new SearchIndex(distance, type, null, null, null, 6, 6, halfvec, null);
        try (Connection c = db.connect()) {
            Collection made = registry.create(c, name, settings(index));
            assertThat(made.index().distance()).isEqualTo(distance);
            assertThat(made.index().type()).isEqualTo(type);
            assertThat(made.index().halfvec()).isEqualTo(halfvec);
            fill(c, made, new Random(distance.hashCode() * 31L + type.hashCode()));
            if (type.equals("ivfflat")) {
                assertThat(registry.get(c, name).indexBuilt()).isFalse();
            }
            // an IVFFlat index is built now; an HNSW one is built again beside the old, then takes its name
            assertThat(registry.reindex(c, name)).isEqualTo("chunk_embeddings_c" + made.id() + "_idx");
            assertThat(registry.get(c, name).indexBuilt()).isTrue();
            assertThat(indexDefinition(c, made.id()))
                    .contains("USING " + type + " (((embedding)::" + (halfvec ? "halfvec" : "vector") + "(8))");
            assertThat(operatorClass(c, made.id()))
                    .isEqualTo((halfvec ? "halfvec" : "vector") + "_" + opclass(distance));

            Random queries = new Random(7);
            for (int q = 0; q < 5; q++) {
                String query = vector(queries);
                c.setAutoCommit(false);
                // On a few hundred rows the planner may rightly prefer reading them all, or the rows of
                // this collection through the (collection_id, generation) btree, and sorting them (it
                // did in CI). What is checked is that the vector index CAN serve the search's ordering:
                // with sequential scans and sorts priced out, only a path that returns rows in distance
                // order wins; an index whose expression or operator class did not match the search's
                // ordering could not, and the count would stay 0.
                try (java.sql.Statement pricedOut = c.createStatement()) {
                    pricedOut.execute("set local enable_seqscan = off");
                    pricedOut.execute("set local enable_sort = off");
                }
                List<Hit> found = search(c, name, query);
                assertThat(indexScans(c, made.id()))
                        .as("the search used the collection's index")
                        .isPositive();
                c.commit();
                c.setAutoCommit(true);
                List<Hit> exact = exact(c, made, query);
                assertThat(found).extracting(Hit::chunkId).containsExactlyElementsOf(ids(exact));
                for (int i = 0; i < K; i++) {
                    assertThat(found.get(i).score()).isCloseTo(exact.get(i).score(), within(1e-9));
                }
            }
        }
    }

    @Test
    void theScoreIsHigherIsBetterAndMeansWhatTheReadmeSaysForEachMetric() throws Exception {
        try (Connection c = db.connect()) {
            for (String distance : SearchIndex.DISTANCES) {
                String name = "score-" + distance.replace('_', '-');
                Collection made = registry.create(
                        c, name, settings(new SearchIndex(distance, null, null, null, null, null, null, null, null)));
                insert(c, made, 1, "[1,0,0,0,0,0,0,0]");
                insert(c, made, 2, "[0,2,0,0,0,0,0,0]");
                List<Double> scores = search(c, name, "[0,1,0,0,0,0,0,0]").stream()
                        .map(Hit::score)
                        .toList();
                List<Double> expected = switch (distance) {
                    case "cosine" -> List.of(1.0, 0.0); // 1 - the cosine distance
                    case "inner_product" -> List.of(2.0, 0.0); // the inner product
                    default -> List.of(-1.0, -Math.sqrt(2)); // minus the Euclidean distance
                };
                assertThat(scores).hasSize(2);
                for (int i = 0; i < 2; i++) {
                    assertThat(scores.get(i)).as(distance).isCloseTo(expected.get(i), within(1e-6));
                }
            }
        }
    }

    @Test
    void anHnswCollectionCreatedToIndexAfterTheLoadIsSearchedExactlyUntilTheReindexBuildsItsIndex() throws Exception {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            Collection made = registry.create(
                    c,
                    "bulk",
                    settings(new SearchIndex("cosine", "hnsw", 16, 64, 200, null, null, null, null)),
                    IndexBuild.AFTER_LOAD);
            c.commit();
            c.setAutoCommit(true);
            assertThat(registry.get(c, "bulk").indexBuilt()).isFalse();
            assertThat(indexDefinition(c, made.id())).as("no HNSW index yet").isNull();
            fill(c, made, new Random(5));
            String query = vector(new Random(6));
            assertThat(search(c, "bulk", query))
                    .extracting(Hit::chunkId)
                    .containsExactlyElementsOf(ids(exact(c, made, query)));

            assertThat(registry.reindex(c, "bulk")).isEqualTo("chunk_embeddings_c" + made.id() + "_idx");
            assertThat(registry.get(c, "bulk").indexBuilt()).isTrue();
            assertThat(indexDefinition(c, made.id())).contains("USING hnsw").contains("ef_construction='64'");
            assertThat(search(c, "bulk", query))
                    .extracting(Hit::chunkId)
                    .containsExactlyElementsOf(ids(exact(c, made, query)));

            Collection atOnce = registry.create(
                    c,
                    "at-once",
                    settings(new SearchIndex("cosine", "hnsw", null, null, null, null, null, null, null)));
            assertThat(indexDefinition(c, atOnce.id()))
                    .as("the default, in the same session: built at once")
                    .contains("USING hnsw");
        }
    }

    @Test
    void anIvfflatIndexIsBuiltOnlyOnceTheCollectionHasVectorsAndSearchesAreExactUntilThen() throws Exception {
        try (Connection c = db.connect()) {
            Collection made = registry.create(
                    c, "late", settings(new SearchIndex("l2", "ivfflat", null, null, null, null, null, null, null)));
            assertThat(registry.get(c, "late").indexBuilt()).isFalse();
            assertThat(registry.reindex(c, "late"))
                    .as("nothing to train on yet")
                    .isNull();
            fill(c, made, new Random(3));
            String query = vector(new Random(4));
            assertThat(search(c, "late", query))
                    .extracting(Hit::chunkId)
                    .containsExactlyElementsOf(ids(exact(c, made, query)));

            assertThat(registry.reindex(c, "late")).isNotNull();
            // lists not given: chosen from the rows at build time (300 / 1000, at least 1)
            assertThat(indexDefinition(c, made.id())).contains("lists='1'");
            assertThat(search(c, "late", query))
                    .extracting(Hit::chunkId)
                    .containsExactlyElementsOf(ids(exact(c, made, query)));
        }
    }

    @Test
    void anIvfflatCollectionSearchedWithDefaultProbesAfterFillingFindsMostOfTheExactResults() throws Exception {
        try (Connection c = db.connect()) {
            Collection made = registry.create(
                    c, "lists", settings(new SearchIndex("cosine", "ivfflat", null, null, null, 9, null, null, null)));
            fill(c, made, new Random(5));
            registry.reindex(c, "lists");
            Random queries = new Random(6);
            int agreed = 0;
            for (int q = 0; q < 10; q++) {
                String query = vector(queries);
                List<Long> found =
                        search(c, "lists", query).stream().map(Hit::chunkId).toList();
                assertThat(found).hasSize(K);
                agreed += (int) ids(exact(c, made, query)).stream()
                        .filter(found::contains)
                        .count();
            }
            // probes = sqrt(9) = 3 of 9 lists: approximate, but most of the true neighbours
            assertThat(agreed).isGreaterThanOrEqualTo(7 * K);
        }
    }

    @Test
    void aFilterKeepingOnePercentOfAnIvfflatCollectionStillFillsTheResultsWithTheExactNeighbours() throws Exception {
        try (Connection c = db.connect()) {
            Collection made = registry.create(
                    c, "rare", settings(new SearchIndex("l2", "ivfflat", null, null, null, 20, 1, null, null)));
            try (PreparedStatement s = c.prepareStatement("with d as (insert into documents (collection_id,"
                    + " external_id, status, metadata) select ?, 'doc-' || i, 'embedded', case when i % 100 = 0 then"
                    + " '{\"tag\": \"rare\"}' else '{}' end::jsonb from generate_series(1, 2000) i returning id),"
                    + " ch as (insert into chunks (document_id, collection_id, document_version, seq, content,"
                    + " token_count) select id, ?, 0, 0, 'text', 1 from d returning id) insert into chunk_embeddings"
                    + " (chunk_id, collection_id, embedding, model) select id, ?, (select array_agg(random() - 0.5) from"
                    + " generate_series(1, 8) g where g > id * 0)::real[]::vector, 'test' from ch")) {
                s.setInt(1, made.id());
                s.setInt(2, made.id());
                s.setInt(3, made.id());
                s.executeUpdate();
            }
            registry.reindex(c, "rare");
            String query = vector(new Random(8));
            List<Long> found = new ArrayList<>();
            try (PreparedStatement s =
                    c.prepareStatement("select chunk_id, similarity from search_documents(?::vector, ?, 'rare',"
                            + " '{\"tag\": \"rare\"}', mode => 'vector')")) {
                s.setString(1, query);
                s.setInt(2, K);
                hits(s).forEach(h -> found.add(h.chunkId()));
            }
            List<Long> exact = new ArrayList<>();
            try (PreparedStatement s =
                    c.prepareStatement("select e.chunk_id, 0 from chunk_embeddings e join chunks ch on"
                            + " ch.id = e.chunk_id join documents d on d.id = ch.document_id where e.collection_id = ? and"
                            + " d.metadata @> '{\"tag\": \"rare\"}' order by (e.embedding <-> ?::vector) + 0 limit "
                            + K)) {
                s.setInt(1, made.id());
                s.setString(2, query);
                hits(s).forEach(h -> exact.add(h.chunkId()));
            }
            // probes 1 of 20 lists holds about one rare document: iterative scans probe on until filled
            assertThat(found).hasSize(K).containsExactlyElementsOf(exact);
        }
    }

    @Test
    void badIndexOptionsAreRefusedNamingEveryField() throws Exception {
        try (Connection c = db.connect()) {
            assertThatThrownBy(() -> registry.create(
                            c, "bad", settings(new SearchIndex("dot", "hnsw", 1, null, 0, 10, 2, null, "no such"))))
                    .isInstanceOfSatisfying(CollectionException.class, e -> {
                        assertThat(e.reason()).isEqualTo(CollectionException.Reason.INVALID);
                        assertThat(e.fieldErrors())
                                .containsOnlyKeys("distance", "m", "ef_search", "lists", "probes", "text_config");
                        assertThat(e.fieldErrors().get("lists"))
                                .isEqualTo("is an option of the ivfflat index, not of hnsw");
                    });
            assertThatThrownBy(() -> registry.create(
                            c, "bad", settings(new SearchIndex(null, "ivfflat", null, 32, null, 4, 5, null, null))))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.fieldErrors()).containsOnlyKeys("ef_construction", "probes"));
            assertThatThrownBy(() -> registry.create(
                            c, "bad", settings(new SearchIndex(null, null, 40, null, null, null, null, null, null))))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.fieldErrors()).containsOnlyKeys("m"));
            assertThatThrownBy(() -> registry.create(
                            c,
                            "bad",
                            settings(new SearchIndex(null, null, null, null, null, null, null, null, "klingon"))))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.fieldErrors()).containsOnlyKeys("text_config"));
        }
        // psql users meet the same rules in the table
        for (String options :
                List.of("'{\"lists\": 4}'", "'{\"m\": 1.5}'", "'{\"m\": \"16\"}'", "'{\"m\": 40}'", "'[]'")) {
            assertThatThrownBy(() -> db.execute("insert into collections (name, dimensions, index_options) values"
                            + " ('bad', 8, " + options + ")"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("23514"));
        }
        assertThat(db.queryValue("select count(*) from collections where name = 'bad'"))
                .isEqualTo(0L);
    }

    @Test
    void theSearchIndexIsFixedOnceCreatedAndAnUpdateThatChangesItIsRefusedNamingTheField() throws Exception {
        try (Connection c = db.connect()) {
            registry.create(c, "fixed", settings(new SearchIndex("l2", "hnsw", 8, 32, null, null, null, true, null)));
            CollectionSettings change = new CollectionSettings(
                    null,
                    null,
                    null,
                    128,
                    null,
                    null,
                    new SearchIndex("cosine", null, null, null, 100, null, null, null, null));
            assertThatThrownBy(() -> registry.update(c, "fixed", change))
                    .isInstanceOfSatisfying(CollectionException.class, e -> {
                        assertThat(e.reason()).isEqualTo(CollectionException.Reason.INVALID);
                        assertThat(e.fieldErrors()).containsOnlyKeys("distance", "ef_search");
                        assertThat(e.fieldErrors().get("distance")).contains("changeable only through a migration");
                    });
        }
        for (String change : List.of(
                "distance = 'cosine'",
                "index_type = 'ivfflat', index_options = '{}'",
                "index_options = '{\"m\": 8, \"ef_construction\": 32, \"ef_search\": 80}'",
                "vector_storage = 'vector'",
                "text_search_config = 'simple'")) {
            String field = change.substring(0, change.indexOf(' '));
            assertThatThrownBy(() -> db.execute("update collections set " + change + " where name = 'fixed'"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining(field + " of collection \"fixed\" is changeable only through a migration");
        }
        assertThat(db.queryValue("select distance || ' ' || index_type || ' ' || index_options::text || ' '"
                        + " || vector_storage from collections where name = 'fixed'"))
                .isEqualTo("l2 hnsw {\"m\": 8, \"ef_construction\": 32} halfvec");
    }

    @Test
    void theCollectionsThatExistedKeepCosineOverAnHnswIndexOfFullVectors() throws Exception {
        try (Connection c = db.connect()) {
            Collection existing = CollectionCatalog.stored(c, "default");
            assertThat(existing.index()).isEqualTo(SearchIndex.DEFAULT);
            assertThat(indexDefinition(c, existing.id()))
                    .endsWith("USING hnsw (((embedding)::vector(384)) vector_cosine_ops) WHERE ((collection_id = "
                            + existing.id() + ") AND (generation = 1))");
        }
    }

    record Hit(long chunkId, double score) {}

    private static CollectionSettings settings(SearchIndex index) {
        return new CollectionSettings("openai", "test", DIMENSIONS, null, null, null, index);
    }

    private static String opclass(String distance) {
        return switch (distance) {
            case "cosine" -> "cosine_ops";
            case "l2" -> "l2_ops";
            default -> "ip_ops";
        };
    }

    private static String vector(Random random) {
        double[] v = new double[DIMENSIONS];
        for (int i = 0; i < DIMENSIONS; i++) {
            v[i] = Math.round((random.nextDouble() * 2 - 1) * 1000) / 1000.0;
        }
        return Arrays.toString(v).replace(" ", "");
    }

    private static void fill(Connection c, Collection collection, Random random) throws SQLException {
        for (int i = 1; i <= VECTORS; i++) {
            insert(c, collection, i, vector(random));
        }
    }

    private static void insert(Connection c, Collection collection, int n, String vector) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("with d as (insert into documents (collection_id, external_id,"
                + " status) values (?, ?, 'embedded') returning id), ch as (insert into chunks (document_id,"
                + " collection_id, document_version, seq, content, token_count) select id, ?, 0, 0, 'text', 1 from d"
                + " returning id) insert into chunk_embeddings (chunk_id, collection_id, embedding, model)"
                + " select id, ?, ?::vector, 'test' from ch")) {
            s.setInt(1, collection.id());
            s.setString(2, "doc-" + n);
            s.setInt(3, collection.id());
            s.setInt(4, collection.id());
            s.setString(5, vector);
            s.executeUpdate();
        }
    }

    private static List<Hit> search(Connection c, String collection, String query) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "select chunk_id, similarity from search_documents(?::vector, ?," + " ?, '{}', mode => 'vector')")) {
            s.setString(1, query);
            s.setInt(2, K);
            s.setString(3, collection);
            return hits(s);
        }
    }

    /** The top K by the collection's metric with no index ({@code + 0} keeps the planner off it). */
    private static List<Hit> exact(Connection c, Collection collection, String query) throws SQLException {
        try (PreparedStatement t = c.prepareStatement("select * from vector_search_terms(?)")) {
            t.setInt(1, collection.id());
            try (ResultSet rs = t.executeQuery()) {
                rs.next();
                String type = rs.getString(1);
                String distance = "e.embedding::" + type + " " + rs.getString(2) + " ?::vector::" + type;
                String score = rs.getString(3).replace("%s", distance);
                try (PreparedStatement s = c.prepareStatement("select chunk_id, " + score + " from chunk_embeddings e"
                        + " where collection_id = ? order by (" + distance + ") + 0 limit " + K)) {
                    s.setString(1, query);
                    s.setInt(2, collection.id());
                    s.setString(3, query);
                    return hits(s);
                }
            }
        }
    }

    private static List<Hit> hits(PreparedStatement s) throws SQLException {
        List<Hit> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.add(new Hit(rs.getLong(1), rs.getDouble(2)));
            }
        }
        return out;
    }

    private static List<Long> ids(List<Hit> hits) {
        return hits.stream().map(Hit::chunkId).collect(Collectors.toList());
    }

    private static String indexDefinition(Connection c, int collectionId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select indexdef from pg_indexes where schemaname ="
                + " current_schema() and indexname = 'chunk_embeddings_c' || ? || '_idx'")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** The operator class of the collection's index (pg_indexes leaves out a default one). */
    private static String operatorClass(Connection c, int collectionId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select o.opcname from pg_index i join pg_opclass o on o.oid ="
                + " i.indclass[0] where i.indexrelid = to_regclass(format('%I.%I', current_schema(),"
                + " 'chunk_embeddings_c' || ? || '_idx'))")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Scans of the collection's index in this transaction so far (not yet in pg_stat_user_indexes). */
    private static long indexScans(Connection c, int collectionId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select pg_stat_get_xact_numscans(to_regclass(format('%I.%I',"
                + " current_schema(), 'chunk_embeddings_c' || ? || '_idx')))")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
