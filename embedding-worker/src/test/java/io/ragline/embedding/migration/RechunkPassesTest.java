package io.ragline.embedding.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.collections.GenerationSweep;
import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class RechunkPassesTest {
    static final long S = 1_000_000_000L;
    final RechunkPasses passes = new RechunkPasses(new GenerationSweep.Pace(Duration.ofSeconds(30), 20), Duration.ZERO);

    @Test
    void aWalkGoesOnFromTheLastDocumentItWasGivenUntilABatchIsNotFull() {
        assertThat(passes.from(7, "1,2", 0, OptionalLong.empty())).hasValue(0);
        assertThat(passes.batch(7, 100, 57, 100, S / 10, S)).isTrue();
        assertThat(passes.from(7, "1,2", 2 * S, OptionalLong.empty()))
                .as("inclusive: a document the limit split is taken up again")
                .hasValue(57);
        assertThat(passes.batch(7, 100, 90, 100, S / 10, 2 * S)).isTrue();
        assertThat(passes.from(7, "1,2", 4 * S, OptionalLong.empty())).hasValue(90);
        assertThat(passes.batch(7, 12, 130, 100, S / 10, 4 * S)).isFalse();
    }

    @Test
    void aWalkThatCutSomethingIsFollowedAtOnceAndOneThatCutNothingAtThePace() {
        passes.from(1, "1,2", 0, OptionalLong.empty());
        passes.batch(1, 40, 80, 100, S / 10, S);
        assertThat(passes.from(1, "1,2", S, OptionalLong.empty()))
                .as("after a walk that cut")
                .hasValue(0);
        passes.batch(1, 0, -1, 100, S / 10, 2 * S);
        assertThat(passes.from(1, "1,2", 3 * S, OptionalLong.empty()))
                .as("after a walk that cut nothing")
                .isEmpty();
        assertThat(passes.from(1, "1,2", 31 * S, OptionalLong.empty())).isEmpty();
        assertThat(passes.from(1, "1,2", 32 * S, OptionalLong.empty()))
                .as("the pace's period after it")
                .hasValue(0);
    }

    @Test
    void aSlowWalkSpacesTheNextOutByTheSweepsSpacing() {
        passes.from(1, "1,2", 0, OptionalLong.empty());
        passes.batch(1, 100, 10, 100, 2 * S, 2 * S); // the walk's statements: 3 s in all
        passes.from(1, "1,2", 3 * S, OptionalLong.empty());
        passes.batch(1, 0, -1, 100, S, 4 * S);
        passes.from(1, "1,2", 4 * S, OptionalLong.empty()); // a walk at once: the one before cut something
        passes.batch(1, 0, -1, 100, 3 * S, 7 * S);
        assertThat(passes.from(1, "1,2", 7 * S + 59 * S, OptionalLong.empty()))
                .as("20 times 3 s")
                .isEmpty();
        assertThat(passes.from(1, "1,2", 7 * S + 60 * S, OptionalLong.empty())).hasValue(0);
    }

    @Test
    void aSweepOrAChangeOfChunkingsStartsAWalkAtOnce() {
        passes.from(1, "1,2", 0, OptionalLong.empty());
        passes.batch(1, 0, -1, 100, S / 10, S);
        assertThat(passes.from(1, "1,2", 2 * S, OptionalLong.empty())).isEmpty();
        assertThat(passes.from(1, "1,2", 2 * S, OptionalLong.of(2 * S - 5)))
                .as("after a sweep's pass")
                .hasValue(0);
        passes.batch(1, 100, 300, 100, S / 10, 3 * S);
        assertThat(passes.from(1, "1,3", 4 * S, OptionalLong.empty()))
                .as("another migration: its walk starts from the first document")
                .hasValue(0);
        assertThat(passes.from(2, "1,2", 4 * S, OptionalLong.empty()))
                .as("collections walk apart")
                .hasValue(0);
    }

    @Test
    void afterAChangeOfChunkingsWalksFollowEachOtherForTheSettlingPeriodWhateverTheyCut() {
        RechunkPasses settling =
                new RechunkPasses(new GenerationSweep.Pace(Duration.ofSeconds(30), 20), Duration.ofSeconds(10));
        settling.from(1, "1,2", 0, OptionalLong.empty());
        settling.batch(1, 0, -1, 100, S / 10, 5 * S);
        assertThat(settling.from(1, "1,2", 6 * S, OptionalLong.empty()))
                .as("within 10 s of the change")
                .hasValue(0);
        settling.batch(1, 0, -1, 100, S / 10, 10 * S);
        assertThat(settling.from(1, "1,2", 11 * S, OptionalLong.empty()))
                .as("the settling period is over")
                .isEmpty();
        assertThat(settling.from(1, "1,2", 40 * S, OptionalLong.empty())).hasValue(0);
    }

    @Test
    void aSweepsPassStartsNoWalkWhenOneEndedSinceItBegan() {
        passes.from(1, "1,2", 0, OptionalLong.empty());
        passes.batch(1, 0, -1, 100, S / 10, 2 * S); // the check's walk, ended after the sweep began at 1 s
        assertThat(passes.from(1, "1,2", 3 * S, OptionalLong.of(S))).isEmpty();
        assertThat(passes.from(1, "1,2", 4 * S, OptionalLong.of(3 * S))).hasValue(0);
    }

    @Test
    void aFailedBatchIsTakenUpAgainWhereTheWalkStood() {
        passes.from(1, "1,2", 0, OptionalLong.empty());
        passes.batch(1, 100, 44, 100, S / 10, S);
        passes.from(1, "1,2", S, OptionalLong.empty());
        passes.failed(1, S / 10);
        assertThat(passes.from(1, "1,2", 3 * S, OptionalLong.empty())).hasValue(44);
        assertThat(passes.from(1, "1,2", 3 * S, OptionalLong.empty())).isEqualTo(OptionalLong.of(44));
    }

    @Test
    void aBatchWithoutAWalkIsRefused() {
        assertThatThrownBy(() -> passes.batch(9, 1, 1, 100, 1, 1)).isInstanceOf(IllegalStateException.class);
    }
}
