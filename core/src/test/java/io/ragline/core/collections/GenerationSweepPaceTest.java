package io.ragline.core.collections;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class GenerationSweepPaceTest {
    private final GenerationSweep.Pace worker =
            new GenerationSweep.Pace(Duration.ofSeconds(30), GenerationSweep.SPACING);

    @Test
    void aQuickPassLeavesTheNextAtThePeriod() {
        assertThat(worker.after(Duration.ofMillis(90), false)).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void aSlowPassPutsTheNextTwentyTimesItsDurationAway() {
        // 200,000 vectors of a kept generation took 1.6 s in the benchmark (docs/benchmarks.md)
        assertThat(worker.after(Duration.ofMillis(1_600), false)).isEqualTo(Duration.ofSeconds(32));
        assertThat(worker.after(Duration.ofSeconds(6), false)).isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void aPassThatStoppedAtItsLimitLeavesTheNextAtTheSpacingAloneSoABacklogOfAsksGoesOn() {
        assertThat(worker.after(Duration.ofMillis(90), true)).isEqualTo(Duration.ofMillis(1_800));
        assertThat(worker.after(Duration.ofSeconds(6), true)).isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void noSpacingKeepsThePeriodWhateverAPassTook() {
        assertThat(new GenerationSweep.Pace(Duration.ZERO, 0).after(Duration.ofSeconds(5), false))
                .isEqualTo(Duration.ZERO);
    }

    @Test
    void aNegativePeriodOrSpacingIsRefused() {
        assertThatThrownBy(() -> new GenerationSweep.Pace(Duration.ofSeconds(-1), 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GenerationSweep.Pace(Duration.ZERO, -1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
