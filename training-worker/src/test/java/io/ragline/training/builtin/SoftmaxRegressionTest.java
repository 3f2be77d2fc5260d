package io.ragline.training.builtin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.contracts.training.Hyperparameters;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SoftmaxRegressionTest {
    /** Three Gaussian blobs in 8 dimensions, well apart. */
    private static float[][] blobs(int perClass, int[] y, long seed) {
        Random random = new Random(seed);
        float[][] x = new float[perClass * 3][8];
        for (int i = 0; i < x.length; i++) {
            int c = i % 3;
            y[i] = c;
            for (int j = 0; j < 8; j++) {
                x[i][j] = (float) (random.nextGaussian() * 0.5 + (j % 3 == c ? 2 : 0));
            }
        }
        return x;
    }

    @Test
    void learnsSeparableClassesAndBeatsTheBaselineOnHeldOutData() throws Exception {
        int[] y = new int[300];
        float[][] x = blobs(100, y, 1);
        Split split = Split.of(y, 0.25, true, 7);
        assertThat(split.test()).hasSize(75);
        float[][] trainX = new float[split.train().length][];
        int[] trainY = new int[split.train().length];
        int[] counts = new int[3];
        for (int i = 0; i < trainX.length; i++) {
            trainX[i] = x[split.train()[i]];
            trainY[i] = y[split.train()[i]];
            counts[trainY[i]]++;
        }
        ClassifierModel m = SoftmaxRegression.train(
                trainX, trainY, List.of("a", "b", "c"), new Hyperparameters(50, 0.1, 16, 1e-4, 3, 0), (e, l) -> true);
        int[] actual = new int[split.test().length];
        int[] predicted = new int[actual.length];
        for (int i = 0; i < actual.length; i++) {
            actual[i] = y[split.test()[i]];
            predicted[i] = m.predict(x[split.test()[i]]);
        }
        Evaluation e = Evaluation.of(actual, predicted, m.labels(), counts);
        assertThat(e.accuracy()).isGreaterThan(0.95);
        assertThat(e.baselineAccuracy()).isLessThan(0.4);
        assertThat(e.macroF1()).isGreaterThan(0.95);
        assertThat(e.support()).containsEntry("a", 25).containsEntry("b", 25).containsEntry("c", 25);

        ClassifierModel copy = ClassifierModel.fromBytes(m.toBytes());
        assertThat(copy.labels()).isEqualTo(m.labels());
        assertThat(copy.probabilities(x[0])).containsExactly(m.probabilities(x[0]));
    }

    @Test
    void theListenerStopsTraining() {
        int[] y = new int[30];
        float[][] x = blobs(10, y, 2);
        assertThatThrownBy(() -> SoftmaxRegression.train(
                        x, y, List.of("a", "b", "c"), Hyperparameters.DEFAULTS, (epoch, loss) -> epoch < 3))
                .isInstanceOf(SoftmaxRegression.Stopped.class)
                .hasMessage("training stopped after epoch 3");
    }

    @Test
    void macroF1CountsAClassNeverPredictedAsZero() {
        Evaluation e =
                Evaluation.of(new int[] {0, 0, 1, 1}, new int[] {0, 0, 0, 0}, List.of("x", "y"), new int[] {5, 1});
        assertThat(e.accuracy()).isEqualTo(0.5);
        assertThat(e.f1()).containsEntry("y", 0.0);
        assertThat(e.macroF1()).isCloseTo((2 * 2.0 / (2 * 2 + 2) + 0) / 2, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(e.baselineAccuracy()).isEqualTo(0.5);
        assertThat(e.majorityClass()).isEqualTo("x");
    }

    @Test
    void aCorruptArtifactIsRefused() {
        assertThatThrownBy(() -> ClassifierModel.fromBytes(new byte[] {1, 2, 3, 4, 5}))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
