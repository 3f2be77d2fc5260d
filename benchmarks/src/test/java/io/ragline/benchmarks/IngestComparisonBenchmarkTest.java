package io.ragline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.benchmarks.IngestComparisonBenchmark.Model;
import io.ragline.benchmarks.IngestComparisonBenchmark.Options;
import io.ragline.benchmarks.IngestComparisonBenchmark.Round;
import io.ragline.embeddings.ModelCatalog;
import java.util.List;
import org.junit.jupiter.api.Test;

class IngestComparisonBenchmarkTest {
    @Test
    void withoutArgumentsItRunsThreeRoundsOfTheWholeManPageCorpusWithEachSidesDefaultModel() {
        Options o = Options.parse(new String[0]);

        assertThat(o).isEqualTo(new Options(3, "120", Model.DEFAULTS));
        assertThat(o.model().ragline).isEqualTo(ModelCatalog.DEFAULT_MODEL);
        assertThat(o.model().peer).isEqualTo("all-minilm-l6-v2");
    }

    @Test
    void int8SelectsTheQuantisedModelOnBothSides() {
        Options o = Options.parse(new String[] {"5", "/tmp/corpus.jsonl", "int8"});

        assertThat(o).isEqualTo(new Options(5, "/tmp/corpus.jsonl", Model.INT8));
        assertThat(o.model().ragline).isEqualTo("all-MiniLM-L6-v2-q");
        assertThat(o.model().peer).isEqualTo("all-minilm-l6-v2-q");
    }

    @Test
    void anUnknownModelOrNoRoundIsRefused() {
        assertThatThrownBy(() -> Options.parse(new String[] {"3", "120", "bge"}))
                .hasMessageContaining("defaults, fp32 or int8, not 'bge'");
        assertThatThrownBy(() -> Options.parse(new String[] {"0"})).hasMessageContaining("at least 1");
    }

    @Test
    void theMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertThat(IngestComparisonBenchmark.median(new double[] {3, 1, 2})).isEqualTo(2);
        assertThat(IngestComparisonBenchmark.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
    }

    @Test
    void aRoundIsOneMarkdownRowWithTheTokensEmbeddedOfTheTextsTokens() {
        Round r = new Round(
                2, IngestComparisonBenchmark.PEER, 120, 120, 514, 64_227, 123_141, 8.5, 58_747, "1.10 0.90 0.80");

        assertThat(IngestComparisonBenchmark.row(r, Model.FP32))
                .isEqualTo("| 2 | LangChain4j EmbeddingStoreIngestor | all-minilm-l6-v2 | 120 | 514 segments |"
                        + " 64,227 of 123,141 | 8.50 | 58,747 | 7,556 | 1.10 0.90 0.80 |");
    }

    @Test
    void theSummaryGivesEachSidesMediansAndTheRatioWithTheSpreadOfPairedRounds() {
        List<Round> peer = List.of(
                round(1, IngestComparisonBenchmark.PEER, 10),
                round(2, IngestComparisonBenchmark.PEER, 20),
                round(3, IngestComparisonBenchmark.PEER, 40));
        List<Round> ragline = List.of(
                round(1, IngestComparisonBenchmark.RAGLINE, 5),
                round(2, IngestComparisonBenchmark.RAGLINE, 8),
                round(3, IngestComparisonBenchmark.RAGLINE, 10));

        List<String> summary = IngestComparisonBenchmark.summary(peer, ragline, Model.FP32);

        // chars/s = 100,000 / seconds: peer 10,000 / 5,000 / 2,500, Ragline 20,000 / 12,500 / 10,000
        assertThat(summary.get(0))
                .isEqualTo(
                        "| median | LangChain4j EmbeddingStoreIngestor | all-minilm-l6-v2 | 3 | | | 20.00 | 5,000 | 50 | |");
        assertThat(summary.get(1))
                .isEqualTo(
                        "| median | Ragline pipeline (defaults) | all-MiniLM-L6-v2 | 3 | | | 8.00 | 12,500 | 125 | |");
        assertThat(summary.get(3))
                .isEqualTo(
                        "Ragline / LangChain4j, corpus chars/s: **2.50×** (medians of 3 rounds each; paired rounds 2.00–4.00×)");
    }

    private static Round round(int number, String side, double seconds) {
        return new Round(number, side, 3, 3, 10, 1000, 1000, seconds, 100_000 / seconds, "1.00 1.00 1.00");
    }
}
