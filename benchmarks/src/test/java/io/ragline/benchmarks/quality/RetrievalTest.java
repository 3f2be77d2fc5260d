package io.ragline.benchmarks.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class RetrievalTest {
    @Test
    void reciprocalRankIsOneOverThePositionOfTheRightDocument() {
        List<String> ranking = List.of("a", "b", "c");

        assertThat(Retrieval.reciprocalRank(ranking, "a")).isEqualTo(1.0);
        assertThat(Retrieval.reciprocalRank(ranking, "c")).isEqualTo(1.0 / 3);
        assertThat(Retrieval.reciprocalRank(ranking, "z")).isZero();
    }

    @Test
    void aDocumentPastTheTenthCountsAsNotFound() {
        List<String> eleven = List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11");

        assertThat(Retrieval.reciprocalRank(eleven, "10")).isEqualTo(0.1);
        assertThat(Retrieval.reciprocalRank(eleven, "11")).isZero();
    }

    @Test
    void scoresAverageTheQueriesAndCountRecallAtTenAndAtOne() {
        Retrieval.Scores s = Retrieval.score(
                List.of(List.of("a", "x"), List.of("x", "b"), List.of("x", "y"), List.of("x", "x2", "x3", "d")),
                List.of("a", "b", "c", "d"));

        assertThat(s.queries()).isEqualTo(4);
        assertThat(s.mrr()).isCloseTo((1 + 0.5 + 0 + 0.25) / 4, within(1e-12));
        assertThat(s.recallAt10()).isEqualTo(0.75);
        assertThat(s.recallAt1()).isEqualTo(0.25);
    }

    @Test
    void theMarginIsNinetyFivePercentOfTheStandardErrorOfTheMean() {
        // reciprocal ranks 1, 0, 1, 0: mean 0.5, sample sd sqrt(1/3), standard error sqrt(1/3)/2
        Retrieval.Scores s = Retrieval.score(
                List.of(List.of("a"), List.of("x"), List.of("c"), List.of("x")), List.of("a", "b", "c", "d"));

        assertThat(s.mrrMargin()).isCloseTo(1.96 * Math.sqrt(1.0 / 3) / 2, within(1e-12));
    }

    @Test
    void everyQueryRightGivesAPerfectScoreWithNoSpread() {
        Retrieval.Scores s = Retrieval.score(List.of(List.of("a"), List.of("b")), List.of("a", "b"));

        assertThat(s.mrr()).isEqualTo(1.0);
        assertThat(s.mrrMargin()).isZero();
    }

    @Test
    void thePairedDifferenceCancelsWhatBothSettingsShare() {
        List<String> expected = List.of("a", "b", "c", "d");
        Retrieval.Scores better =
                Retrieval.score(List.of(List.of("a"), List.of("b"), List.of("x", "c"), List.of("x", "d")), expected);
        Retrieval.Scores worse = Retrieval.score(
                List.of(List.of("x", "a"), List.of("x", "b"), List.of("x", "y", "c"), List.of("x", "y", "d")),
                expected);

        Retrieval.Difference d = Retrieval.difference(better, worse);

        // per query: 1/2, 1/2, 1/6, 1/6 -> mean 1/3; sd of (1/6, 1/6, -1/6, -1/6) around it is sqrt(1/27)
        assertThat(d.mean()).isCloseTo(1.0 / 3, within(1e-12));
        assertThat(d.margin()).isCloseTo(1.96 * Math.sqrt(1.0 / 27) / 2, within(1e-12));
        assertThat(d.significant()).isTrue();
        assertThat(Retrieval.difference(better, better).significant()).isFalse();
    }

    @Test
    void distinctTopKeepsTheFirstOccurrenceOfEachDocument() {
        assertThat(Retrieval.distinctTop(List.of("a", "a", "b", "a", "c", "d"), 3))
                .containsExactly("a", "b", "c");
    }

    @Test
    void rankingsAndQueriesMustPairUp() {
        assertThatThrownBy(() -> Retrieval.score(List.of(List.of("a")), List.of("a", "b")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Retrieval.score(List.of(), List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
