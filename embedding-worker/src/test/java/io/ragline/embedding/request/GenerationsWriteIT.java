package io.ragline.embedding.request;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.collections.CollectionMigrations;
import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.collections.CollectionSettings;
import io.ragline.core.collections.Generation;
import io.ragline.embedding.ProviderRegistry;
import io.ragline.embedding.migration.MigrationSwitcher;
import io.ragline.embedding.search.SearchJson;
import io.ragline.embedding.search.SearchMode;
import io.ragline.embedding.search.Searcher;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The embedding-worker's side of a migration, with the two real bundled models
 * (all-MiniLM-L6-v2 serving, bge-small-en-v1.5 building) and real Postgres: a migration's
 * backfill request writes the new generation's vectors of an embedded document without touching
 * its status or events; a new version during the migration gets both generations at once; the
 * switcher switches once nothing lacks; the Searcher then embeds with the new model and finds the
 * same document, and after a rollback with the old one again.
 */
class GenerationsWriteIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Batches batches = new Batches(db);
    static ProviderRegistry providers;
    static EmbeddingWriter writer;
    static Searcher searcher;
    static final CollectionMigrations migrations = new CollectionMigrations(ModelCatalog.bundled());

    @BeforeAll
    static void start() {
        providers = new ProviderRegistry(
                EmbeddingSettings.from(new io.ragline.core.config.Env(Map.of(EmbeddingSettings.ONNX_THREADS, "2"))),
                batches.pool());
        CollectionCatalog catalog = new CollectionCatalog(Duration.ZERO);
        writer = new EmbeddingWriter(batches.pool(), catalog, providers, new SimpleMeterRegistry());
        searcher = new Searcher(batches.pool(), catalog, providers);
    }

    @AfterAll
    static void stop() {
        batches.close();
        if (providers != null) {
            providers.close();
        }
    }

    @Test
    void aMigrationsVectorsAreWrittenBesideTheServingOnesAndTheSwitchMovesSearchToTheNewModel() throws Exception {
        long harbour = batches.chunkedDocument("default", "harbour", 3, "harbours and lighthouses");
        long orchard = batches.chunkedDocument("default", "orchard", 2, "apple orchards in autumn");
        batches.write(
                writer,
                List.of(
                        new EmbeddingRequest("default", "harbour", harbour, 1),
                        new EmbeddingRequest("default", "orchard", orchard, 1)));
        assertThat(vectors(1)).isEqualTo(5L);

        try (Connection c = db.connect()) { // the schema's owner, as ragline collections migrate (DDL: its index)
            c.setAutoCommit(false);
            assertThat(migrations
                            .migrate(c, "default", null, "bge-small-en-v1.5", null)
                            .requested())
                    .isEqualTo(2);
            c.commit();
        }
        long events = events();
        batches.write(writer, List.of(new EmbeddingRequest("default", "harbour", harbour, 1)));
        assertThat(vectors(2)).as("the backfill of harbour").isEqualTo(3L);
        assertThat(db.queryValue("select string_agg(distinct model, ',') from chunk_embeddings where generation = 2"))
                .isEqualTo("bge-small-en-v1.5");
        assertThat(db.queryValue("select status from documents where id = " + harbour))
                .isEqualTo("embedded");
        assertThat(events()).as("a backfill writes no document event").isEqualTo(events);
        batches.write(writer, List.of(new EmbeddingRequest("default", "harbour", harbour, 1)));
        assertThat(vectors(2))
                .as("a backfill delivered twice writes nothing twice")
                .isEqualTo(3L);

        batches.newVersion(orchard, 2, 2, "pear orchards in spring");
        batches.write(writer, List.of(new EmbeddingRequest("default", "orchard", orchard, 2)));
        assertThat(vectors(1))
                .as("the new version's vectors of the serving model")
                .isEqualTo(5L);
        assertThat(vectors(2)).as("and of the building one, in the same write").isEqualTo(5L);

        assertThat(searcher.search("default", "lighthouse by the sea", 2, null)
                        .get(0)
                        .documentId())
                .isEqualTo("harbour");
        try (Connection c = batches.pool().getConnection()) { // the worker's login: the switch needs no DDL
            new MigrationSwitcher(batches.pool(), new SimpleMeterRegistry()).check(c, () -> true);
        }
        assertThat(db.queryValue("select embedding_model from collections where name = 'default'"))
                .isEqualTo("bge-small-en-v1.5");
        assertThat(db.queryValue("select count(*) from outbox where payload ->> 'type' = 'collection.migrated' and"
                        + " payload ->> 'collection' = 'default'"))
                .isEqualTo(1L);
        assertThat(searcher.search("default", "lighthouse by the sea", 2, null)
                        .get(0)
                        .documentId())
                .as("searched with bge-small-en-v1.5 over its own vectors")
                .isEqualTo("harbour");

        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            migrations.rollback(c, "default");
            c.commit();
        }
        assertThat(searcher.search("default", "pears in spring", 2, null).get(0).documentId())
                .as("the kept generation serves again")
                .isEqualTo("orchard");
    }

    @Test
    void eachGenerationHoldsItsOwnModelsVectorsWhichAVectorSearchRanksOnlyWithThatModelsQuery() throws Exception {
        create("own");
        long reef = batches.chunkedDocument("own", "reef", 2, "coral reefs and tropical fish");
        long forge = batches.chunkedDocument("own", "forge", 2, "blacksmiths hammering iron in a forge");
        List<EmbeddingRequest> both =
                List.of(new EmbeddingRequest("own", "reef", reef, 1), new EmbeddingRequest("own", "forge", forge, 1));
        batches.write(writer, both);
        migrate("own");
        batches.write(writer, both); // the backfill: generation 2's vectors

        Collection own;
        List<Generation> generations;
        try (Connection c = db.connect()) {
            own = CollectionCatalog.stored(c, "own");
            generations = Generation.of(c, own.id());
        }
        assertThat(generations).extracting(Generation::model).containsExactly("all-MiniLM-L6-v2", "bge-small-en-v1.5");
        // Both models give 384 dimensions: only the vectors themselves tell which model made them.
        for (long document : List.of(reef, forge)) {
            for (Generation g : generations) {
                Generation other = generations.get(g.number() == 1 ? 1 : 0);
                for (Map.Entry<String, float[]> chunk :
                        storedVectors(document, g.number()).entrySet()) {
                    float[] byItsModel = providers
                            .apply(own.as(g))
                            .embed(List.of(chunk.getKey()))
                            .get(0);
                    float[] byTheOther = providers
                            .apply(own.as(other))
                            .embed(List.of(chunk.getKey()))
                            .get(0);
                    assertThat(cosine(chunk.getValue(), byItsModel))
                            .as("generation %d's vector of '%s' is %s's", g.number(), chunk.getKey(), g.model())
                            .isGreaterThan(0.999);
                    assertThat(cosine(chunk.getValue(), byTheOther))
                            .as("and not %s's", other.model())
                            .isLessThan(0.95);
                }
            }
        }

        switchNow();
        SearchJson.Request query = new SearchJson.Request(
                "tropical fish swimming over coral", "own", 2, null, SearchMode.VECTOR, null, true, 0);
        List<Searcher.Hit> hits = searcher.search(query);
        assertThat(hits).extracting(Searcher.Hit::documentId).containsExactly("reef", "forge");
        float[] queryByItsModel = providers.apply(own.as(generations.get(1))).embedQuery(query.query());
        assertThat(hits.get(0).score())
                .as("ranked by bge-small-en-v1.5's query vector against its own vectors")
                .isCloseTo(bestCosine(reef, 2, queryByItsModel), org.assertj.core.data.Offset.offset(1e-4));
    }

    /** Each chunk's content and its stored vector of {@code generation}. */
    private static Map<String, float[]> storedVectors(long document, int generation) throws Exception {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        try (Connection c = db.connect();
                var s = c.prepareStatement("select ch.content, e.embedding::real[] from chunks ch join chunk_embeddings"
                        + " e on e.chunk_id = ch.id and e.generation = ? where ch.document_id = ? order by ch.seq")) {
            s.setInt(1, generation);
            s.setLong(2, document);
            try (var rs = s.executeQuery()) {
                while (rs.next()) {
                    Object[] values = (Object[]) rs.getArray(2).getArray();
                    float[] v = new float[values.length];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = ((Number) values[i]).floatValue();
                    }
                    out.put(rs.getString(1), v);
                }
            }
        }
        assertThat(out).isNotEmpty();
        return out;
    }

    private static double bestCosine(long document, int generation, float[] query) throws Exception {
        return storedVectors(document, generation).values().stream()
                .mapToDouble(v -> cosine(v, query))
                .max()
                .orElseThrow();
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void aDocumentReadBeforeAMigrateIsAskedForAgainSoTheNewGenerationGetsItsVectors() throws Exception {
        create("early");
        long tide = batches.chunkedDocument("early", "tide", 2, "tides and moons");
        batches.write(
                Batches.between(writer, () -> migrate("early")),
                List.of(new EmbeddingRequest("early", "tide", tide, 1)));
        assertThat(db.queryValue("select status from documents where id = " + tide))
                .isEqualTo("embedded");
        assertThat(vectorsOf(tide, 2)).as("read before generation 2 existed").isEqualTo(0L);
        assertThat(db.queryValue("select count(*) from outbox where topic = 'embedding-requests' and"
                        + " (payload ->> 'document')::bigint = " + tide))
                .as("the migrate's request (tide was chunked) and the write's own")
                .isEqualTo(2L);

        batches.write(writer, List.of(new EmbeddingRequest("early", "tide", tide, 1)));
        assertThat(vectorsOf(tide, 2)).isEqualTo(2L);
        switchNow();
        assertThat(db.queryValue("select embedding_model from collections where name = 'early'"))
                .isEqualTo("bge-small-en-v1.5");
    }

    @Test
    void aDocumentReadBeforeASwitchIsNotMarkedEmbeddedWithoutAVectorOfTheGenerationServingAtItsWrite()
            throws Exception {
        create("late");
        long kelp = batches.chunkedDocument("late", "kelp", 2, "kelp forests");
        batches.write(
                Batches.between(writer, () -> {
                    migrate("late");
                    switchNow(); // nothing searchable lacks a vector: complete at once
                }),
                List.of(new EmbeddingRequest("late", "kelp", kelp, 1)));
        assertThat(db.queryValue("select embedding_model from collections where name = 'late'"))
                .isEqualTo("bge-small-en-v1.5");
        assertThat(db.queryValue("select status from documents where id = " + kelp))
                .as("read with generation 1 serving, written with generation 2 serving and none of its vectors")
                .isEqualTo("chunked");

        batches.write(writer, List.of(new EmbeddingRequest("late", "kelp", kelp, 1)));
        assertThat(db.queryValue("select status from documents where id = " + kelp))
                .isEqualTo("embedded");
        assertThat(vectorsOf(kelp, 2)).isEqualTo(2L);
        assertThat(searcher.search("late", "kelp forests", 2, null).get(0).documentId())
                .isEqualTo("kelp");
    }

    private static void create(String name) throws Exception {
        try (Connection c = db.connect()) {
            new CollectionRegistry(ModelCatalog.bundled())
                    .create(c, name, new CollectionSettings(null, "all-MiniLM-L6-v2", null, null, null, null));
        }
    }

    private static void migrate(String name) throws Exception {
        try (Connection c = db.connect()) {
            migrations.migrate(c, name, null, "bge-small-en-v1.5", null);
        }
    }

    private static void switchNow() throws Exception {
        try (Connection c = batches.pool().getConnection()) {
            new MigrationSwitcher(batches.pool(), new SimpleMeterRegistry()).check(c, () -> true);
        }
    }

    private static Object vectorsOf(long document, int generation) throws Exception {
        return db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id = e.chunk_id where"
                + " ch.document_id = " + document + " and e.generation = " + generation);
    }

    private static Object vectors(int generation) throws Exception {
        return db.queryValue("select count(*) from chunk_embeddings where generation = " + generation
                + " and collection_id = (select id from collections where name = 'default')");
    }

    private static long events() throws Exception {
        return (long) db.queryValue("select count(*) from outbox where topic = 'pipeline-events'");
    }
}
