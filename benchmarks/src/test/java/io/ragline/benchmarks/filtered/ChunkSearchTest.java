package io.ragline.benchmarks.filtered;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkSearchTest {
    @Test
    void recallIsTheShareOfTheTrueNearestAmongTheFirstK() {
        List<String> exact = List.of("a", "b", "c", "d");

        assertThat(ChunkSearch.recall(List.of("a", "b", "c", "d"), exact)).isEqualTo(1.0);
        assertThat(ChunkSearch.recall(List.of("d", "x", "b", "y"), exact)).isEqualTo(0.5);
        assertThat(ChunkSearch.recall(List.of("x", "y", "z", "w", "a"), exact)).isZero(); // "a" is fifth
    }

    @Test
    void fewerResultsThanKLowerTheRecall() {
        assertThat(ChunkSearch.recall(List.of("a"), List.of("a", "b"))).isEqualTo(0.5);
        assertThat(ChunkSearch.recall(List.of(), List.of("a", "b"))).isZero();
        assertThat(ChunkSearch.recall(List.of(), List.of())).isEqualTo(1.0);
    }

    @Test
    void aResultRepeatedCountsOnce() {
        assertThat(ChunkSearch.recall(List.of("a", "a"), List.of("a", "b"))).isEqualTo(0.5);
    }
}
