package io.ragline.benchmarks.relay;

import java.util.ArrayList;
import java.util.List;

/**
 * The event-dispatchers the relay benchmark runs beside Debezium: one per entry of the system
 * property {@code relay.producers} (1 and 2 unless it says otherwise), each entry a value of {@code
 * RAGLINE_OUTBOX_PRODUCERS}, named {@code ragline-N}; an entry {@code base:N} runs the build on the
 * class path {@code relay.baseline} instead of this one, named {@code base-N}: two builds side by
 * side in one run.
 */
public record DispatcherRuns(List<Run> runs) {
    private static final String BASE = "base:";

    /** One dispatcher: its name in the results, its producers, the class path (null: this JVM's). */
    public record Run(String name, String producers, String classpath) {
        /** A short identifier for its schema: {@code r2}, {@code b2}. */
        public String tag() {
            return (classpath == null ? "r" : "b") + producers;
        }
    }

    /** The runs the system properties ask for. */
    public static DispatcherRuns fromSystemProperties() {
        return parse(System.getProperty("relay.producers", "1,2"), System.getProperty("relay.baseline"));
    }

    /** The runs {@code entries} (comma-separated) ask for, {@code base:} ones on {@code classpath}. */
    static DispatcherRuns parse(String entries, String classpath) {
        List<Run> runs = new ArrayList<>();
        for (String raw : entries.split(",")) {
            String entry = raw.strip();
            if (!entry.startsWith(BASE)) {
                runs.add(new Run("ragline-" + entry, entry, null));
                continue;
            }
            if (classpath == null || classpath.isBlank()) {
                throw new IllegalArgumentException(entry + " needs -Drelay.baseline=<the other build's class path>");
            }
            String producers = entry.substring(BASE.length());
            runs.add(new Run("base-" + producers, producers, classpath));
        }
        return new DispatcherRuns(List.copyOf(runs));
    }

    /** The pairs whose ratios are printed: each run against Debezium, each other against the first. */
    public List<String[]> compared() {
        List<String[]> pairs = new ArrayList<>();
        for (Run run : runs) {
            pairs.add(new String[] {run.name(), "debezium"});
        }
        for (int i = 1; i < runs.size(); i++) {
            pairs.add(new String[] {runs.get(i).name(), runs.get(0).name()});
        }
        return pairs;
    }
}
