package io.ragline.benchmarks.filtered;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CellTest {
    @Test
    void aCellCountsShortAnswersAndSummarisesRecallAndLatency() {
        Cell cell = new Cell("hnsw/vector", true, 10);
        for (int i = 1; i <= 100; i++) {
            cell.add(i * 1_000_000L, i == 50 ? 7 : 10, i == 50 ? 0.7 : 1.0);
        }

        assertThat(cell.queries()).isEqualTo(100);
        assertThat(cell.shortAnswers()).isEqualTo(1);
        assertThat(cell.minLength()).isEqualTo(7);
        assertThat(cell.meanRecall()).isEqualTo((99 + 0.7) / 100);
        assertThat(cell.minRecall()).isEqualTo(0.7);
        assertThat(cell.p50Millis()).isEqualTo(50.0);
        assertThat(cell.p99Millis()).isEqualTo(99.0);
    }
}
