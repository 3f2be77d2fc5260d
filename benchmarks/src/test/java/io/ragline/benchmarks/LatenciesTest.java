package io.ragline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LatenciesTest {
    @Test
    void thePercentileIsTheNearestRankInMilliseconds() {
        long[] nanos = {4_000_000, 1_000_000, 3_000_000, 2_000_000};

        assertThat(Latencies.percentileMillis(nanos, 0.5)).isEqualTo(2.0);
        assertThat(Latencies.percentileMillis(nanos, 0.99)).isEqualTo(4.0);
        assertThat(Latencies.percentileMillis(nanos, 0.25)).isEqualTo(1.0);
        assertThat(nanos[0]).isEqualTo(4_000_000); // the caller's array is left as it was
    }

    @Test
    void noMeasurementHasNoPercentile() {
        assertThat(Latencies.percentileMillis(new long[0], 0.5)).isNaN();
    }
}
