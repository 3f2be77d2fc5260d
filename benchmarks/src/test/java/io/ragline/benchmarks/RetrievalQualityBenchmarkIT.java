package io.ragline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.benchmarks.corpus.DebianPackages;
import io.ragline.benchmarks.quality.Retrieval;
import io.ragline.benchmarks.quality.Setting;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The quality benchmark's short form end to end: 100 installed packages through Ragline's whole
 * pipeline (real Kafka, Postgres, ONNX model) with the default setting, searched through {@code
 * POST /search}. Checks results only: every document embedded, every query ranked, and a mean
 * reciprocal rank far above chance (about 0.03 for 10 guesses among 100 documents).
 */
class RetrievalQualityBenchmarkIT {
    private static final int PACKAGES = 100;

    @Test
    void theDefaultSettingFindsMostPackagesFromTheirSynopsis() throws Exception {
        DebianPackages.KnownItems items = DebianPackages.sample(
                DebianPackages.usable(DebianPackages.read(DebianPackages.INSTALLED.toString())),
                PACKAGES,
                DebianPackages.DEFAULT_SEED);

        RetrievalQualityBenchmark.Row row;
        try (BenchmarkPipeline pipeline = BenchmarkPipeline.start("qualityit")) {
            row = RetrievalQualityBenchmark.measure(pipeline, items, Setting.defaults());
        }

        assertThat(row.documents()).isEqualTo(PACKAGES);
        assertThat(row.chunks()).isGreaterThanOrEqualTo(PACKAGES);
        assertThat(row.rankings())
                .hasSize(PACKAGES)
                .allSatisfy(ranking -> assertThat(ranking)
                        .hasSize(Retrieval.K)
                        .doesNotHaveDuplicates()
                        .isSubsetOf(items.documents().stream().map(d -> d.id()).toList()));
        assertThat(row.scores().queries()).isEqualTo(PACKAGES);
        assertThat(row.scores().mrr()).isGreaterThan(0.5);
        assertThat(row.scores().recallAt10()).isGreaterThan(0.8);
        assertThat(row.scores().mrrMargin()).isBetween(0.0, 0.2);
        assertThat(List.of(
                        row.scores().recallAt1(),
                        row.scores().mrr(),
                        row.scores().recallAt10()))
                .isSorted();
    }
}
