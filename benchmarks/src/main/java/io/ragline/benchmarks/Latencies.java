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
        return sorted[nearestRankIndex(sorted.length, p)] / 1e6;
    }

    /**
     * The index, in {@code n} values sorted ascending ({@code n > 0}), of their {@code p}-th
     * percentile by nearest rank (0 for {@code p} 0): what {@link #percentileMillis} prints.
     */
    public static int nearestRankIndex(int n, double p) {
        return Math.max(0, Math.min(n - 1, (int) Math.ceil(p * n) - 1));
    }
}
