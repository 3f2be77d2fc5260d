package io.ragline.embeddings.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a call's texts, sorted by length, are cut into runs for the lanes. */
class RunsTest {
    private static List<String> cut(int[] lengths, int threads, int lanes, int maxTexts, int maxTokens) {
        return OnnxEmbeddingModel.runs(lengths, new OnnxOptions(threads, lanes, maxTexts, maxTokens, false)).stream()
                .map(Arrays::toString)
                .toList();
    }

    private static int[] lengths(int count, int each) {
        int[] l = new int[count];
        Arrays.fill(l, each);
        return l;
    }

    @Test
    void everyLaneGetsARunWhenThereAreTextsEnough() {
        assertThat(cut(lengths(5, 32), 4, 4, 64, 512)).containsExactly("[0, 1]", "[1, 2]", "[2, 3]", "[3, 5]");
        assertThat(cut(lengths(10, 32), 8, 8, 64, 512)).hasSize(8);
        assertThat(cut(lengths(17, 32), 16, 16, 64, 512)).hasSize(16);
        assertThat(cut(lengths(3, 32), 4, 4, 64, 512)).containsExactly("[0, 1]", "[1, 2]", "[2, 3]");
    }

    @Test
    void oneLaneCutsOnlyByTheBounds() {
        assertThat(cut(lengths(64, 32), 2, 1, 64, 2048)).containsExactly("[0, 64]");
        assertThat(cut(lengths(64, 32), 2, 1, 64, 512)).containsExactly("[0, 16]", "[16, 32]", "[32, 48]", "[48, 64]");
        assertThat(cut(lengths(10, 32), 2, 1, 4, 2048)).containsExactly("[0, 4]", "[4, 8]", "[8, 10]");
    }

    @Test
    void theTokenCapCountsTheLongestTextOfARunAndATextLongerThanTheCapRunsAlone() {
        int[] sorted = {10, 10, 100, 200, 300, 600};
        // 10, 10 and 100 pad to 3 x 100 = 300; adding 200 would make 4 x 200 = 800. From there any
        // two pad beyond 512, and 600 runs alone although it alone is over the cap.
        assertThat(cut(sorted, 1, 1, 64, 512)).containsExactly("[0, 3]", "[3, 4]", "[4, 5]", "[5, 6]");
    }

    @Test
    void twoLanesSplitTheSortedTextsInHalvesThenByTheCap() {
        assertThat(cut(lengths(64, 32), 2, 2, 64, 512)).containsExactly("[0, 16]", "[16, 32]", "[32, 48]", "[48, 64]");
        assertThat(cut(lengths(1, 32), 2, 2, 64, 512)).containsExactly("[0, 1]");
    }
}
