package io.ragline.core.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private static final Duration INITIAL = Duration.ofMillis(500);
    private static final Duration MAX = Duration.ofSeconds(30);

    @Test
    void eachAttemptDoublesTheWaitAroundWhichTheJitterSpreads() {
        Backoff centre = Backoff.of(INITIAL, MAX).withRandom(() -> 0.5);

        assertThat(centre.wait(1)).isEqualTo(Duration.ofMillis(500));
        assertThat(centre.wait(2)).isEqualTo(Duration.ofMillis(1000));
        assertThat(centre.wait(4)).isEqualTo(Duration.ofMillis(4000));
    }

    @Test
    void theJitterKeepsEveryWaitWithinHalfAndOneAndAHalfTimesItsExponentialValue() {
        Backoff lowest = Backoff.of(INITIAL, MAX).withRandom(() -> 0.0);
        Backoff highest = Backoff.of(INITIAL, MAX).withRandom(() -> Math.nextDown(1.0));
        Backoff random = Backoff.of(INITIAL, MAX);

        assertThat(lowest.wait(3)).isEqualTo(Duration.ofMillis(1000));
        assertThat(highest.wait(3)).isBetween(Duration.ofMillis(2990), Duration.ofMillis(3000));
        for (int i = 0; i < 10_000; i++) {
            assertThat(random.wait(3)).isBetween(Duration.ofMillis(1000), Duration.ofMillis(3000));
        }
    }

    @Test
    void noWaitExceedsTheCapAndWaitsAtTheCapStillSpreadBelowIt() {
        Backoff random = Backoff.of(INITIAL, MAX);
        long belowTheCap = 0;
        for (int i = 0; i < 10_000; i++) {
            Duration wait = random.wait(20);
            assertThat(wait).isBetween(MAX.dividedBy(2), MAX);
            if (wait.compareTo(MAX) < 0) {
                belowTheCap++;
            }
        }
        assertThat(belowTheCap).isGreaterThan(2_000);
        assertThat(Backoff.of(INITIAL, MAX).withRandom(() -> 0.99).wait(7)).isEqualTo(MAX);
    }

    @Test
    void largeAttemptNumbersNeitherOverflowNorFail() {
        Backoff lowest = Backoff.of(INITIAL, MAX).withRandom(() -> 0.0);
        Backoff highest = Backoff.of(INITIAL, MAX).withRandom(() -> Math.nextDown(1.0));
        Backoff huge = Backoff.of(Duration.ofDays(365), Duration.ofDays(3650)).withRandom(() -> Math.nextDown(1.0));

        for (int attempt : new int[] {63, 64, 1025, Integer.MAX_VALUE}) {
            assertThat(lowest.wait(attempt)).isEqualTo(MAX.dividedBy(2));
            assertThat(highest.wait(attempt)).isEqualTo(MAX);
            assertThat(huge.wait(attempt)).isEqualTo(Duration.ofDays(3650));
        }
        assertThat(Backoff.of(Duration.ZERO, MAX).wait(Integer.MAX_VALUE)).isZero();
    }

    @Test
    void theDefaultsAreHalfASecondDoublingToThirtySeconds() {
        Backoff defaults = Backoff.defaults();

        assertThat(defaults.initial()).isEqualTo(Backoff.DEFAULT_INITIAL).isEqualTo(INITIAL);
        assertThat(defaults.max()).isEqualTo(Backoff.DEFAULT_MAX).isEqualTo(MAX);
    }

    @Test
    void aBackoffThatCannotBeRightIsRefused() {
        assertThatThrownBy(() -> Backoff.of(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not be below its initial wait");
        assertThatThrownBy(() -> Backoff.of(Duration.ofMillis(-1), MAX))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not be negative");
        assertThatThrownBy(() -> Backoff.defaults().wait(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("count from 1");
    }

    @Test
    void aSubMillisecondInitialWaitStillDoublesWithEachAttempt() {
        Backoff centre = Backoff.of(Duration.ofNanos(300_000), MAX).withRandom(() -> 0.5);

        assertThat(centre.wait(1)).isEqualTo(Duration.ofNanos(300_000));
        assertThat(centre.wait(2)).isEqualTo(Duration.ofNanos(600_000));
        assertThat(centre.wait(4)).isEqualTo(Duration.ofNanos(2_400_000));
    }
}
