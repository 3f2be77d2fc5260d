package io.ragline.training.builtin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Held-out metrics of a classifier: accuracy, macro-averaged F1 (a class that is never predicted
 * nor present is left out; one present but never predicted counts 0), per-class F1 and support,
 * and the accuracy of always answering the training set's most common class (the baseline a
 * model must clearly beat to be worth anything).
 */
public record Evaluation(
        double accuracy,
        double macroF1,
        double baselineAccuracy,
        String majorityClass,
        Map<String, Double> f1,
        Map<String, Integer> support) {

    /**
     * @param actual class indices of the held-out examples
     * @param predicted the model's class indices for them
     * @param trainCounts examples of each class in the training split (for the baseline)
     */
    public static Evaluation of(int[] actual, int[] predicted, List<String> labels, int[] trainCounts) {
        int k = labels.size();
        int[] tp = new int[k];
        int[] fp = new int[k];
        int[] fn = new int[k];
        int correct = 0;
        for (int i = 0; i < actual.length; i++) {
            if (actual[i] == predicted[i]) {
                correct++;
                tp[actual[i]]++;
            } else {
                fp[predicted[i]]++;
                fn[actual[i]]++;
            }
        }
        int majority = 0;
        for (int c = 1; c < k; c++) {
            if (trainCounts[c] > trainCounts[majority]) {
                majority = c;
            }
        }
        int majorityHits = 0;
        for (int a : actual) {
            if (a == majority) {
                majorityHits++;
            }
        }
        Map<String, Double> f1 = new LinkedHashMap<>();
        Map<String, Integer> support = new LinkedHashMap<>();
        double f1Sum = 0;
        int f1Classes = 0;
        for (int c = 0; c < k; c++) {
            support.put(labels.get(c), tp[c] + fn[c]);
            if (tp[c] + fp[c] + fn[c] == 0) {
                continue;
            }
            double f = 2.0 * tp[c] / (2.0 * tp[c] + fp[c] + fn[c]);
            f1.put(labels.get(c), f);
            f1Sum += f;
            f1Classes++;
        }
        int n = Math.max(1, actual.length);
        return new Evaluation(
                (double) correct / n,
                f1Classes == 0 ? 0 : f1Sum / f1Classes,
                (double) majorityHits / n,
                labels.get(majority),
                f1,
                support);
    }
}
