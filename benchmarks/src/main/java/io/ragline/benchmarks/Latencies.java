package io.ragline.benchmarks;

import java.util.Arrays;

/** Latency percentiles of the benchmarks: the nearest-rank percentile of measured nanoseconds. */
public final class Latencies {
    private Latencies() {}

    /**
     * The {@code p}-th percentile (0 < p ≤ 1) of {@code nanos} in milliseconds, by nearest rank: the
     * smallest value with at least {@code p} of them at or below it; NaN for none.
     */
    public static double percentileMillis(long[] nanos, double p) {
        if (nanos.length == 0) {
            return Double.NaN;
        }
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
    }
}
