package io.ragline.training.builtin;

import io.ragline.contracts.training.Hyperparameters;
import java.util.List;
import java.util.Random;

/**
 * Multinomial logistic regression (softmax) trained by mini-batch gradient descent with L2
 * regularisation, in plain Java. Features are standardised with the training set's mean and
 * standard deviation, which the model keeps. Deterministic for a given seed.
 */
public final class SoftmaxRegression {
    /** Called after each epoch; returning false stops training (a cancelled or abandoned job). */
    @FunctionalInterface
    public interface EpochListener {
        boolean afterEpoch(int epoch, double loss) throws InterruptedException;
    }

    /** Training stopped because the listener said so. */
    public static final class Stopped extends Exception {
        public Stopped(int epoch) {
            super("training stopped after epoch " + epoch);
        }
    }

    private SoftmaxRegression() {}

    /**
     * @param x one feature vector per example
     * @param y each example's class index into {@code labels}
     */
    public static ClassifierModel train(
            float[][] x, int[] y, List<String> labels, Hyperparameters h, EpochListener listener)
            throws Stopped, InterruptedException {
        int n = x.length;
        int d = x[0].length;
        int k = labels.size();
        float[] mean = new float[d];
        float[] std = new float[d];
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                mean[j] += row[j] / n;
            }
        }
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                double diff = row[j] - mean[j];
                std[j] += (float) (diff * diff / n);
            }
        }
        for (int j = 0; j < d; j++) {
            std[j] = (float) Math.max(Math.sqrt(std[j]), 1e-6);
        }
        ClassifierModel model = new ClassifierModel(List.copyOf(labels), mean, std, new float[k][d + 1]);
        double[][] s = new double[n][];
        for (int i = 0; i < n; i++) {
            s[i] = model.standardise(x[i]);
        }
        double[][] w = new double[k][d + 1];
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Random random = new Random(h.seed());
        int batch = Math.min(h.batchSize(), n);
        double[][] grad = new double[k][d + 1];
        double[] z = new double[k];
        for (int epoch = 1; epoch <= h.epochs(); epoch++) {
            shuffle(order, random);
            double loss = 0;
            for (int start = 0; start < n; start += batch) {
                int end = Math.min(n, start + batch);
                for (double[] g : grad) {
                    java.util.Arrays.fill(g, 0);
                }
                for (int b = start; b < end; b++) {
                    double[] xi = s[order[b]];
                    int yi = y[order[b]];
                    for (int c = 0; c < k; c++) {
                        double v = w[c][d];
                        for (int j = 0; j < d; j++) {
                            v += w[c][j] * xi[j];
                        }
                        z[c] = v;
                    }
                    double[] p = ClassifierModel.softmax(z);
                    loss -= Math.log(Math.max(p[yi], 1e-12));
                    for (int c = 0; c < k; c++) {
                        double err = p[c] - (c == yi ? 1 : 0);
                        double[] g = grad[c];
                        for (int j = 0; j < d; j++) {
                            g[j] += err * xi[j];
                        }
                        g[d] += err;
                    }
                }
                double scale = h.learningRate() / (end - start);
                for (int c = 0; c < k; c++) {
                    for (int j = 0; j <= d; j++) {
                        double reg = j < d ? h.l2() * w[c][j] * (end - start) : 0;
                        w[c][j] -= scale * (grad[c][j] + reg);
                    }
                }
            }
            if (!listener.afterEpoch(epoch, loss / n)) {
                throw new Stopped(epoch);
            }
            if (h.epochPauseMs() > 0) {
                Thread.sleep(h.epochPauseMs());
            }
        }
        float[][] weights = new float[k][d + 1];
        for (int c = 0; c < k; c++) {
            for (int j = 0; j <= d; j++) {
                weights[c][j] = (float) w[c][j];
            }
        }
        return new ClassifierModel(List.copyOf(labels), mean, std, weights);
    }

    private static void shuffle(int[] a, Random random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
