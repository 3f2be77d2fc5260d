package io.ragline.benchmarks.filtered;

import java.util.SplittableRandom;

/**
 * Unit vectors with the structure of sentence embeddings rather than uniform noise, from a seed:
 * a shared direction (embeddings of one model are anisotropic: two unrelated texts still have a
 * cosine of about 0.1), topics around it, clusters within each topic, and each document's
 * chunks scattered around one cluster. Two chunks' cosine is about 0.6 within a cluster, 0.35
 * within a topic and 0.1 across topics.
 *
 * <p>Every vector is a function of the seed and its position only (a {@link SplittableRandom} of
 * its own), so a collection loaded in any order, or twice, holds the same vectors, and a query
 * never coincides with a stored vector.
 */
public final class ClusteredVectors {
    /** The weight of the shared direction in a topic's centre. */
    private static final double SHARED = 0.7;

    /** How far a cluster's centre lies from its topic's, and a chunk from its cluster's (unit noise). */
    private static final double CLUSTER_SPREAD = 0.9;

    private static final double CHUNK_SPREAD = 0.8;

    private final int dimensions;
    private final long seed;
    private final float[][] clusters;

    /**
     * @param topics how many topics
     * @param clustersPerTopic clusters in each topic
     */
    public ClusteredVectors(int dimensions, int topics, int clustersPerTopic, long seed) {
        if (dimensions < 2 || topics < 1 || clustersPerTopic < 1) {
            throw new IllegalArgumentException("need at least 2 dimensions, 1 topic and 1 cluster per topic");
        }
        this.dimensions = dimensions;
        this.seed = seed;
        SplittableRandom r = new SplittableRandom(seed);
        double[] shared = unit(r, dimensions);
        this.clusters = new float[topics * clustersPerTopic][];
        for (int t = 0; t < topics; t++) {
            double[] topic = normalise(add(scale(shared, SHARED), unit(r, dimensions), 1));
            for (int c = 0; c < clustersPerTopic; c++) {
                clusters[t * clustersPerTopic + c] =
                        toFloats(normalise(add(topic, unit(r, dimensions), CLUSTER_SPREAD)));
            }
        }
    }

    public int dimensions() {
        return dimensions;
    }

    /** The cluster of document {@code document}: every chunk of it lies around this one. */
    public int clusterOf(long document) {
        return new SplittableRandom(mix(document, 0x5DEECE66DL)).nextInt(clusters.length);
    }

    /** Chunk {@code seq} of document {@code document}. */
    public float[] chunk(long document, int seq) {
        SplittableRandom r = new SplittableRandom(mix(document * 1_000_003L + seq, 0x9E3779B97F4A7C15L));
        return around(clusters[clusterOf(document)], r);
    }

    /** Query {@code i}: a point around a random cluster, drawn apart from every chunk. */
    public float[] query(int i) {
        SplittableRandom r = new SplittableRandom(mix(i, 0xC2B2AE3D27D4EB4FL));
        return around(clusters[r.nextInt(clusters.length)], r);
    }

    private float[] around(float[] centre, SplittableRandom r) {
        double[] v = unit(r, dimensions);
        double[] out = new double[dimensions];
        for (int d = 0; d < dimensions; d++) {
            out[d] = centre[d] + CHUNK_SPREAD * v[d];
        }
        return toFloats(normalise(out));
    }

    private long mix(long value, long salt) {
        long z = value * 0xBF58476D1CE4E5B9L + seed + salt;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static double[] unit(SplittableRandom r, int dimensions) {
        double[] v = new double[dimensions];
        for (int d = 0; d < dimensions; d++) {
            v[d] = r.nextGaussian();
        }
        return normalise(v);
    }

    private static double[] add(double[] a, double[] b, double weight) {
        double[] out = new double[a.length];
        for (int d = 0; d < a.length; d++) {
            out[d] = a[d] + weight * b[d];
        }
        return out;
    }

    private static double[] scale(double[] a, double weight) {
        return add(new double[a.length], a, weight);
    }

    private static double[] normalise(double[] v) {
        double norm = 0;
        for (double x : v) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        for (int d = 0; d < v.length; d++) {
            v[d] /= norm;
        }
        return v;
    }

    private static float[] toFloats(double[] v) {
        float[] out = new float[v.length];
        for (int d = 0; d < v.length; d++) {
            out[d] = (float) v[d];
        }
        return out;
    }
}
