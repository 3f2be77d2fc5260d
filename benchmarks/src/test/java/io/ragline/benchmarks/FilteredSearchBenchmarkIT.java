package io.ragline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.benchmarks.filtered.Cell;
import io.ragline.benchmarks.filtered.ChunkSearch;
import io.ragline.benchmarks.filtered.ClusteredVectors;
import io.ragline.benchmarks.filtered.SyntheticCollection;
import io.ragline.benchmarks.filtered.Variant;
import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Migrations;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.testkit.TestServices;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The filtered search benchmark's short form against the real Postgres: 8,000 vectors, every
 * index type and storage, 30 queries. Checks results, not speed: the exact search it is held
 * against is the true nearest (computed here in Java from the same generator), and every variant
 * answers k chunks, filtered to 1 % or not, with a high recall.
 */
class FilteredSearchBenchmarkIT {
    private static final int VECTORS = 8_000;
    private static final int K = 10;

    private static DatabaseUrl url() {
        return DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
    }

    @Test
    void theExactSearchFindsTheTrueNearestChunksWithinTheFilter() throws Exception {
        ClusteredVectors vectors = new ClusteredVectors(FilteredSearchBenchmark.DIMENSIONS, 50, 20, 19);
        DatabaseUrl url = url();
        String schema = "bench_it_" + Long.toString(System.nanoTime(), 36);
        new Migrations(url, schema, "bench").migrate();
        try (Connection c = BenchmarkDatabase.connect(url)) {
            try (Statement s = c.createStatement()) {
                s.execute("set search_path = " + schema + ", public");
            }
            c.setAutoCommit(false);
            int documents = VECTORS / FilteredSearchBenchmark.CHUNKS_PER_DOCUMENT;
            SyntheticCollection.Loaded loaded = SyntheticCollection.load(
                    c,
                    new CollectionRegistry(ModelCatalog.bundled()),
                    "exact",
                    Variant.parse("hnsw/vector").settings(),
                    vectors,
                    documents,
                    FilteredSearchBenchmark.CHUNKS_PER_DOCUMENT,
                    SyntheticCollection.Build.AFTER_LOAD);
            c.setAutoCommit(true);

            for (int q = 0; q < 5; q++) {
                float[] query = vectors.query(q);
                int tenant = q;
                assertThat(ChunkSearch.exact(c, loaded.collection().id(), query, K, "{}"))
                        .containsExactlyElementsOf(nearest(vectors, query, documents, d -> true));
                assertThat(ChunkSearch.exact(
                                c, loaded.collection().id(), query, K, SyntheticCollection.tenantFilter(q)))
                        .containsExactlyElementsOf(nearest(vectors, query, documents, d -> d % 100 == tenant));
            }
        } finally {
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
        }
    }

    /** The {@link #K} nearest chunks by cosine among the documents {@code keep} accepts, in Java. */
    private static List<String> nearest(
            ClusteredVectors vectors, float[] query, int documents, java.util.function.LongPredicate keep) {
        record Scored(String key, double distance) {}
        List<Scored> all = new ArrayList<>();
        for (long d = 0; d < documents; d++) {
            if (!keep.test(d)) {
                continue;
            }
            for (int seq = 0; seq < FilteredSearchBenchmark.CHUNKS_PER_DOCUMENT; seq++) {
                float[] v = vectors.chunk(d, seq);
                double dot = IntStream.range(0, v.length)
                        .mapToDouble(i -> (double) v[i] * query[i])
                        .sum();
                all.add(new Scored(SyntheticCollection.key("d" + d, seq), 1 - dot));
            }
        }
        return all.stream()
                .sorted(Comparator.comparingDouble(Scored::distance))
                .limit(K)
                .map(Scored::key)
                .toList();
    }

    @Test
    void everyIndexAndStorageAnswersKChunksWithHighRecallFilteredOrNot() throws Exception {
        FilteredSearchBenchmark.Result r =
                FilteredSearchBenchmark.run(url(), FilteredSearchBenchmark.Options.parse(new String[] {
                    "--vectors", Integer.toString(VECTORS), "--queries", "30", "--warm-up", "5"
                }));

        assertThat(r.loaded()).hasSize(4);
        assertThat(r.cells()).hasSize(8).allSatisfy(cell -> {
            assertThat(cell.queries()).isEqualTo(30);
            assertThat(cell.shortAnswers())
                    .as(cell.variant() + " short answers")
                    .isZero();
            assertThat(cell.meanRecall()).as(cell.variant() + " recall").isGreaterThanOrEqualTo(0.9);
            assertThat(cell.p50Millis()).isPositive();
        });
        assertThat(r.cells().stream().filter(Cell::filtered)).hasSize(4);
    }
}
