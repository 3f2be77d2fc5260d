package io.ragline.benchmarks.relay;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the relay benchmark measured of one relay: each round's latency percentiles by rate, and its
 * drains and one-transaction inserts; and the two tables that compare two relays, round by round
 * and drain by drain.
 */
public final class Measured {
    /** By rate, one {p50, p90, p99, max} in ms per round, in round order. */
    private final Map<Integer, List<double[]>> rounds = new LinkedHashMap<>();

    private final List<Double> drainsPerSecond = new ArrayList<>();
    private final List<Double> insertsPerSecond = new ArrayList<>();

    /** A round at {@code rate} rows/s: p50, p90, p99 and max in ms. */
    public void round(int rate, double[] percentiles) {
        rounds.computeIfAbsent(rate, k -> new ArrayList<>()).add(percentiles);
    }

    /** A drain of a backlog, in events/s, and the insert of that backlog, in rows/s. */
    public void drain(double eventsPerSecond, double insertRowsPerSecond) {
        drainsPerSecond.add(eventsPerSecond);
        insertsPerSecond.add(insertRowsPerSecond);
    }

    /**
     * Per rate of {@code rates}: both relays' medians over rounds of p50, p90 and p99, and the ratios
     * {@code r}/{@code d} round by round (median, min-max).
     */
    public static void printRatios(String rName, Measured r, String dName, Measured d, int[] rates) {
        System.out.println();
        System.out.println("| rate | percentile | " + rName + " ms (median of rounds) | " + dName + " ms | ratio "
                + rName + "/" + dName + " median (min-max) |");
        System.out.println("|---|---|---|---|---|");
        String[] names = {"p50", "p90", "p99"};
        for (int rate : rates) {
            List<double[]> rr = r.rounds.get(rate);
            List<double[]> dd = d.rounds.get(rate);
            for (int i = 0; i < names.length; i++) {
                double[] ratios = new double[rr.size()];
                double[] rv = new double[rr.size()];
                double[] dv = new double[rr.size()];
                for (int k = 0; k < rr.size(); k++) {
                    rv[k] = rr.get(k)[i];
                    dv[k] = dd.get(k)[i];
                    ratios[k] = rv[k] / dv[k];
                }
                System.out.printf(
                        Locale.ROOT,
                        "| %,d/s | %s | %.1f | %.1f | %.2f (%.2f-%.2f) |%n",
                        rate,
                        names[i],
                        median(rv),
                        median(dv),
                        median(ratios),
                        Arrays.stream(ratios).min().orElse(Double.NaN),
                        Arrays.stream(ratios).max().orElse(Double.NaN));
            }
        }
    }

    /** The drains and inserts of a {@code backlog} of two relays: medians, and r/d drain by drain. */
    public static void printDrains(String rName, Measured r, String dName, Measured d, int backlog) {
        int n = Math.min(r.drainsPerSecond.size(), d.drainsPerSecond.size());
        if (n == 0) {
            System.out.printf(Locale.ROOT, "backlog of %,d rows: no drains to compare%n", backlog);
            return;
        }
        double[] ratios = new double[n];
        for (int i = 0; i < n; i++) {
            ratios[i] = r.drainsPerSecond.get(i) / d.drainsPerSecond.get(i);
        }
        double[] sorted = ratios.clone();
        Arrays.sort(sorted);
        System.out.printf(
                Locale.ROOT,
                "backlog of %,d rows, %d drains each: %s median %,.0f events/s, %s %,.0f; drain ratio"
                        + " %s/%s median %.2fx (%.2f-%.2f); one-transaction insert median %,.0f rows/s"
                        + " (%s's schema), %,.0f (%s's)%n",
                backlog,
                n,
                rName,
                median(r.drainsPerSecond),
                dName,
                median(d.drainsPerSecond),
                rName,
                dName,
                median(ratios),
                sorted[0],
                sorted[n - 1],
                median(r.insertsPerSecond),
                rName,
                median(d.insertsPerSecond),
                dName);
    }

    private static double median(List<Double> values) {
        return median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
