package io.ragline.console.system;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The samples of a Prometheus text exposition (version 0.0.4, what every admin port's {@code
 * /metrics} serves): {@code name{label="value",...} value [timestamp]}, comments and blank lines
 * skipped, a line it cannot read skipped too (the console shows rates, it does not judge a worker's
 * output).
 */
public final class PrometheusText {
    /** One sample. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    private final List<Sample> samples;

    private PrometheusText(List<Sample> samples) {
        this.samples = List.copyOf(samples);
    }

    public static PrometheusText parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            Sample s = sample(l);
            if (s != null) {
                samples.add(s);
            }
        }
        return new PrometheusText(samples);
    }

    public List<Sample> samples() {
        return samples;
    }

    /** The sum of every sample of {@code name} whose labels {@code where} accepts; 0 when none. */
    public double sum(String name, Predicate<Map<String, String>> where) {
        double sum = 0;
        for (Sample s : samples) {
            if (s.name().equals(name) && where.test(s.labels())) {
                sum += s.value();
            }
        }
        return sum;
    }

    public double sum(String name) {
        return sum(name, labels -> true);
    }

    private static Sample sample(String line) {
        int brace = line.indexOf('{');
        int space = line.indexOf(' ');
        if (space < 0) {
            return null;
        }
        String name;
        Map<String, String> labels = new LinkedHashMap<>();
        String rest;
        if (brace >= 0 && brace < space) {
            name = line.substring(0, brace);
            int end = labels(line, brace + 1, labels);
            if (end < 0) {
                return null;
            }
            rest = line.substring(end + 1).strip();
        } else {
            name = line.substring(0, space);
            rest = line.substring(space + 1).strip();
        }
        String number = rest.split("\\s+")[0];
        try {
            return new Sample(name, labels, value(number));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static double value(String number) {
        return switch (number) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(number);
        };
    }

    /** Reads {@code a="x",b="y"} from {@code at} into {@code labels}; the index of the closing brace, or -1. */
    private static int labels(String line, int at, Map<String, String> labels) {
        int i = at;
        while (i < line.length()) {
            char ch = line.charAt(i);
            if (ch == '}') {
                return i;
            }
            if (ch == ',' || ch == ' ') {
                i++;
                continue;
            }
            int eq = line.indexOf('=', i);
            if (eq < 0 || eq + 1 >= line.length() || line.charAt(eq + 1) != '"') {
                return -1;
            }
            StringBuilder value = new StringBuilder();
            int j = eq + 2;
            for (; j < line.length() && line.charAt(j) != '"'; j++) {
                char c = line.charAt(j);
                if (c == '\\' && j + 1 < line.length()) {
                    char n = line.charAt(++j);
                    value.append(n == 'n' ? '\n' : n);
                } else {
                    value.append(c);
                }
            }
            if (j >= line.length()) {
                return -1;
            }
            labels.put(line.substring(i, eq).strip(), value.toString());
            i = j + 1;
        }
        return -1;
    }
}
