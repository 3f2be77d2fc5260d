package io.ragline.training.builtin;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * A trained multinomial logistic regression over standardised embeddings: what is stored in
 * {@code models.artifact} and used to label new documents.
 *
 * <p>Artifact format (big-endian, {@link DataOutputStream}): the magic {@code "RLSR"}, format
 * version {@code 1} (int), dimensions {@code d} (int), classes {@code k} (int), {@code k} labels
 * (modified UTF-8, {@code writeUTF}), {@code d} feature means (float), {@code d} feature standard
 * deviations (float), then {@code k} rows of {@code d + 1} weights (float; the last of each row is
 * the bias). A document's class probabilities are {@code softmax(W · ((x - mean) / std) + b)}.
 * 384 dimensions and 4 classes take about 9 KB.
 */
public record ClassifierModel(List<String> labels, float[] mean, float[] std, float[][] weights) {
    private static final int MAGIC = 0x524c5352; // "RLSR"
    private static final int VERSION = 1;

    public int dimensions() {
        return mean.length;
    }

    /** Class probabilities for one (raw, unstandardised) feature vector. */
    public double[] probabilities(float[] x) {
        if (x.length != mean.length) {
            throw new IllegalArgumentException(
                    "the model takes " + mean.length + " dimensions, the document has " + x.length);
        }
        double[] z = new double[labels.size()];
        double[] s = standardise(x);
        for (int k = 0; k < z.length; k++) {
            float[] w = weights[k];
            double v = w[s.length];
            for (int j = 0; j < s.length; j++) {
                v += w[j] * s[j];
            }
            z[k] = v;
        }
        return softmax(z);
    }

    /** The most probable class's index. */
    public int predict(float[] x) {
        return argmax(probabilities(x));
    }

    double[] standardise(float[] x) {
        double[] s = new double[x.length];
        for (int j = 0; j < x.length; j++) {
            s[j] = (x[j] - mean[j]) / std[j];
        }
        return s;
    }

    static double[] softmax(double[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = Math.exp(z[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < z.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    static int argmax(double[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[best]) {
                best = i;
            }
        }
        return best;
    }

    public byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(mean.length);
            out.writeInt(labels.size());
            for (String l : labels) {
                out.writeUTF(l);
            }
            for (float v : mean) {
                out.writeFloat(v);
            }
            for (float v : std) {
                out.writeFloat(v);
            }
            for (float[] row : weights) {
                for (float v : row) {
                    out.writeFloat(v);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static ClassifierModel fromBytes(byte[] artifact) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(artifact))) {
            if (in.readInt() != MAGIC) {
                throw new IllegalArgumentException("not a builtin classifier artifact (bad magic)");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new IllegalArgumentException("classifier artifact version " + version + " is not supported");
            }
            int d = in.readInt();
            int k = in.readInt();
            String[] labels = new String[k];
            for (int i = 0; i < k; i++) {
                labels[i] = in.readUTF();
            }
            float[] mean = new float[d];
            float[] std = new float[d];
            for (int j = 0; j < d; j++) {
                mean[j] = in.readFloat();
            }
            for (int j = 0; j < d; j++) {
                std[j] = in.readFloat();
            }
            float[][] w = new float[k][d + 1];
            for (int i = 0; i < k; i++) {
                for (int j = 0; j <= d; j++) {
                    w[i][j] = in.readFloat();
                }
            }
            return new ClassifierModel(List.of(labels), mean, std, w);
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated classifier artifact", e);
        }
    }
}
