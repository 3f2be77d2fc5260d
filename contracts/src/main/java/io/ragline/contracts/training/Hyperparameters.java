package io.ragline.contracts.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The builtin trainer's hyperparameters, from a request's {@code hyperparameters} object; every
 * unknown name or value out of range is a problem, named.
 *
 * @param epochPauseMs a pause after each epoch: lets a test make a job long without a big corpus,
 *     and lets an operator leave CPU to the other workers of a small machine
 */
public record Hyperparameters(int epochs, double learningRate, int batchSize, double l2, long seed, long epochPauseMs) {
    public static final Hyperparameters DEFAULTS = new Hyperparameters(100, 0.1, 32, 1e-4, 42, 0);

    private static final Map<String, double[]> RANGES = Map.of(
            "epochs", new double[] {1, 1_000_000},
            "learning_rate", new double[] {1e-9, 100},
            "batch_size", new double[] {1, 1_000_000},
            "l2", new double[] {0, 100},
            "seed", new double[] {Long.MIN_VALUE, Long.MAX_VALUE},
            "epoch_pause_ms", new double[] {0, 600_000});
    private static final List<String> INTEGERS = List.of("epochs", "batch_size", "seed", "epoch_pause_ms");

    /** Reads {@code json}, adding each problem to {@code problems}; defaults fill what is absent. */
    public static Hyperparameters from(ObjectNode json, List<String> problems) {
        for (Iterator<String> names = json.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!RANGES.containsKey(name)) {
                problems.add("hyperparameters." + name + " is not a builtin hyperparameter ("
                        + String.join(", ", RANGES.keySet().stream().sorted().toList()) + ")");
            }
        }
        return new Hyperparameters(
                (int) number(json, "epochs", DEFAULTS.epochs, problems),
                number(json, "learning_rate", DEFAULTS.learningRate, problems),
                (int) number(json, "batch_size", DEFAULTS.batchSize, problems),
                number(json, "l2", DEFAULTS.l2, problems),
                (long) number(json, "seed", DEFAULTS.seed, problems),
                (long) number(json, "epoch_pause_ms", DEFAULTS.epochPauseMs, problems));
    }

    /** As {@link #from(ObjectNode, List)} for a request already validated. */
    public static Hyperparameters from(ObjectNode json) {
        List<String> problems = new java.util.ArrayList<>();
        Hyperparameters h = from(json, problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        return h;
    }

    private static double number(ObjectNode json, String name, double defaultValue, List<String> problems) {
        JsonNode n = json.get(name);
        if (n == null || n.isNull()) {
            return defaultValue;
        }
        double[] range = RANGES.get(name);
        boolean integer = INTEGERS.contains(name);
        if (!n.isNumber()
                || (integer && !n.canConvertToLong())
                || (integer && n.asDouble() != Math.rint(n.asDouble()))) {
            problems.add("hyperparameters." + name + " must be " + (integer ? "an integer" : "a number"));
            return defaultValue;
        }
        double v = n.asDouble();
        if (v < range[0] || v > range[1]) {
            problems.add("hyperparameters." + name + " must be between " + fmt(range[0]) + " and " + fmt(range[1]));
            return defaultValue;
        }
        return integer ? n.asLong() : v;
    }

    private static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
