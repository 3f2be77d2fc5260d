package io.ragline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.benchmarks.corpus.DebianPackages;
import io.ragline.benchmarks.corpus.KnownItems;
import io.ragline.benchmarks.quality.Retrieval;
import io.ragline.benchmarks.quality.Setting;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.Env;
import io.ragline.embedding.ProviderRegistry;
import io.ragline.embedding.search.Searcher;
import io.ragline.embeddings.EmbeddingSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The quality benchmark's short form end to end: 100 installed packages through Ragline's whole
 * pipeline (real Kafka, Postgres, ONNX model) with the default setting, searched as {@code POST
 * /search} searches in each mode. Checks results only: every document embedded, every query ranked
 * in every mode, and mean reciprocal ranks far above chance (about 0.03 for 10 guesses among 100
 * documents).
 */
class RetrievalQualityBenchmarkIT {
    private static final int PACKAGES = 100;

    @Test
    void theDefaultSettingFindsMostPackagesFromTheirSynopsis() throws Exception {
        KnownItems items = DebianPackages.sample(
                DebianPackages.usable(DebianPackages.read(DebianPackages.INSTALLED.toString())),
                PACKAGES,
                DebianPackages.DEFAULT_SEED);

        List<RetrievalQualityBenchmark.Row> rows;
        try (RaglinePipeline pipeline = RaglinePipeline.start("qualityit");
                ProviderRegistry models = new ProviderRegistry(
                        EmbeddingSettings.from(new Env(Map.of())),
                        pipeline.runtime().dataSource())) {
            Searcher searcher = new Searcher(
                    pipeline.runtime().dataSource(), new CollectionCatalog(Duration.ofSeconds(10)), models);
            rows = RetrievalQualityBenchmark.measure(
                    pipeline, searcher, items, Setting.defaults(), RetrievalQualityBenchmark.MODES);
        }

        List<String> ids = items.documents().stream().map(d -> d.id()).toList();
        assertThat(rows).extracting(RetrievalQualityBenchmark.Row::mode).containsExactly("vector", "text", "hybrid");
        assertThat(rows).allSatisfy(row -> {
            assertThat(row.documents()).isEqualTo(PACKAGES);
            assertThat(row.chunks()).isGreaterThanOrEqualTo(PACKAGES);
            assertThat(row.rankings())
                    .hasSize(PACKAGES)
                    .allSatisfy(ranking -> assertThat(ranking)
                            .hasSizeLessThanOrEqualTo(Retrieval.K)
                            .doesNotHaveDuplicates()
                            .isSubsetOf(ids));
            assertThat(row.scores().queries()).isEqualTo(PACKAGES);
            assertThat(row.scores().mrrMargin()).isBetween(0.0, 0.2);
            assertThat(List.of(
                            row.scores().recallAt1(),
                            row.scores().mrr(),
                            row.scores().recallAt10()))
                    .isSorted();
        });
        for (RetrievalQualityBenchmark.Row row : List.of(rows.get(0), rows.get(2))) { // vector, hybrid
            assertThat(row.rankings()).allSatisfy(ranking -> assertThat(ranking).hasSize(Retrieval.K));
            assertThat(row.scores().mrr()).as(row.mode()).isGreaterThan(0.5);
            assertThat(row.scores().recallAt10()).as(row.mode()).isGreaterThan(0.8);
        }
        assertThat(rows.get(1).scores().mrr()).as("text").isGreaterThan(0.2);
    }
}
