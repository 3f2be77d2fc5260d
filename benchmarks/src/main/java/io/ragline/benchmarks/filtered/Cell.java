package io.ragline.benchmarks.filtered;

import io.ragline.benchmarks.Latencies;
import java.util.Arrays;

/**
 * What one variant answered for one kind of query (filtered or not): per query its latency, the
 * number of results and its recall@k against the exact search.
 */
public final class Cell {
    private final String variant;
    private final boolean filtered;
    private final int k;
    private long[] nanos = new long[0];
    private int[] lengths = new int[0];
    private double[] recalls = new double[0];
    private int size;
    private double indexScansPerSearch = Double.NaN;

    public Cell(String variant, boolean filtered, int k) {
        this.variant = variant;
        this.filtered = filtered;
        this.k = k;
    }

    public String variant() {
        return variant;
    }

    public boolean filtered() {
        return filtered;
    }

    /** Records one query: {@code nanos} it took, {@code length} results, their recall. */
    public void add(long nanos, int length, double recall) {
        if (size == this.nanos.length) {
            int grown = Math.max(16, size * 2);
            this.nanos = Arrays.copyOf(this.nanos, grown);
            lengths = Arrays.copyOf(lengths, grown);
            recalls = Arrays.copyOf(recalls, grown);
        }
        this.nanos[size] = nanos;
        lengths[size] = length;
        recalls[size] = recall;
        size++;
    }

    public int queries() {
        return size;
    }

    /** How many queries got fewer than k results. */
    public long shortAnswers() {
        return Arrays.stream(lengths, 0, size).filter(n -> n < k).count();
    }

    public int minLength() {
        return Arrays.stream(lengths, 0, size).min().orElse(0);
    }

    public double meanRecall() {
        return Arrays.stream(recalls, 0, size).average().orElse(Double.NaN);
    }

    /** The lowest recall of any query. */
    public double minRecall() {
        return Arrays.stream(recalls, 0, size).min().orElse(Double.NaN);
    }

    /**
     * How many scans of the collection's vector index a search of this cell started, on average
     * (from {@link ChunkSearch#indexScans}); 0 means the planner answered without the vector
     * index, so the recall is not the index's. NaN until measured.
     */
    public double indexScansPerSearch() {
        return indexScansPerSearch;
    }

    public void indexScansPerSearch(double value) {
        indexScansPerSearch = value;
    }

    public double p50Millis() {
        return Latencies.percentileMillis(Arrays.copyOf(nanos, size), 0.50);
    }

    public double p99Millis() {
        return Latencies.percentileMillis(Arrays.copyOf(nanos, size), 0.99);
    }
}
