package io.ragline.benchmarks.quality;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The retrieval metrics of every quality benchmark, Ragline's and the LangChain4j peer's alike, from
 * rankings (the distinct document ids a search returned, best first) and the one right document
 * of each query (known-item search).
 *
 * <ul>
 *   <li>MRR@10: the mean over queries of 1/rank of the right document within the first 10, 0 when
 *       it is not among them;
 *   <li>recall@10 and recall@1: the share of queries whose right document is among the first 10,
 *       or first;
 *   <li>the spread: the standard error of the mean reciprocal rank, the sample standard deviation
 *       of the per-query reciprocal ranks over the square root of their number; {@link Scores#mrrMargin}
 *       is 1.96 of it, a normal 95 % interval. Two settings on the same queries are compared by
 *       {@link #difference}: the mean and margin of their per-query differences (paired, so the
 *       queries' own difficulty cancels out, which is much narrower than the two margins apart).
 * </ul>
 */
public final class Retrieval {
    /** The cut-off of MRR and recall: the first 10 distinct documents. */
    public static final int K = 10;

    /** The normal quantile of a two-sided 95 % interval. */
    static final double Z95 = 1.96;

    private Retrieval() {}

    /**
     * The scores of each query's ranking against its right document; a ranking may hold fewer than
     * {@link #K} ids, and ids past the first {@code K} are ignored.
     */
    public record Scores(double[] reciprocalRanks, double mrr, double mrrMargin, double recallAt10, double recallAt1) {
        public int queries() {
            return reciprocalRanks.length;
        }
    }

    /** A paired difference of MRR@10 between two settings on the same queries: {@code a - b}. */
    public record Difference(double mean, double margin) {
        /** Whether the 95 % interval of the difference excludes zero. */
        public boolean significant() {
            return Math.abs(mean) > margin;
        }
    }

    /** The first {@code k} distinct ids of {@code ids} (chunks' document ids, best first). */
    public static List<String> distinctTop(List<String> ids, int k) {
        Set<String> out = new LinkedHashSet<>();
        for (String id : ids) {
            if (out.size() == k) {
                break;
            }
            out.add(id);
        }
        return new ArrayList<>(out);
    }

    /** 1/rank of {@code expected} within the first {@link #K} of {@code ranking}, 0 if not there. */
    public static double reciprocalRank(List<String> ranking, String expected) {
        int limit = Math.min(K, ranking.size());
        for (int i = 0; i < limit; i++) {
            if (ranking.get(i).equals(expected)) {
                return 1.0 / (i + 1);
            }
        }
        return 0;
    }

    /**
     * The scores of {@code rankings.get(i)} against {@code expected.get(i)} for every query {@code i}.
     *
     * @throws IllegalArgumentException if the lists differ in length or are empty
     */
    public static Scores score(List<List<String>> rankings, List<String> expected) {
        if (rankings.size() != expected.size() || rankings.isEmpty()) {
            throw new IllegalArgumentException(
                    rankings.size() + " rankings for " + expected.size() + " queries: need one each, at least one");
        }
        int n = rankings.size();
        double[] rr = new double[n];
        int top10 = 0;
        int top1 = 0;
        for (int i = 0; i < n; i++) {
            rr[i] = reciprocalRank(rankings.get(i), expected.get(i));
            top10 += rr[i] > 0 ? 1 : 0;
            top1 += rr[i] == 1.0 ? 1 : 0;
        }
        return new Scores(rr, mean(rr), Z95 * standardError(rr), (double) top10 / n, (double) top1 / n);
    }

    /**
     * MRR@10 of {@code a} less that of {@code b}, with the 95 % margin of the per-query differences.
     *
     * @throws IllegalArgumentException if they were not scored on the same number of queries
     */
    public static Difference difference(Scores a, Scores b) {
        if (a.queries() != b.queries()) {
            throw new IllegalArgumentException(
                    "paired scores need the same queries: " + a.queries() + " and " + b.queries());
        }
        double[] d = new double[a.queries()];
        for (int i = 0; i < d.length; i++) {
            d[i] = a.reciprocalRanks()[i] - b.reciprocalRanks()[i];
        }
        return new Difference(mean(d), Z95 * standardError(d));
    }

    static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    /** The standard error of the mean: the sample standard deviation over sqrt(n); 0 for one value. */
    static double standardError(double[] values) {
        int n = values.length;
        if (n < 2) {
            return 0;
        }
        double m = mean(values);
        double squares = 0;
        for (double v : values) {
            squares += (v - m) * (v - m);
        }
        return Math.sqrt(squares / (n - 1)) / Math.sqrt(n);
    }
}
