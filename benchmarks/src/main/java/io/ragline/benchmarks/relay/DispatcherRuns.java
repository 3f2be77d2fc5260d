package io.ragline.benchmarks.relay;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The event-dispatchers the relay benchmark runs beside Debezium: one per entry of the system
 * property {@code relay.producers} (1 and 2 unless it says otherwise), each entry a value of {@code
 * RAGLINE_OUTBOX_PRODUCERS}, named {@code ragline-N}; an entry {@code base:N} runs the build on the
 * class path {@code relay.baseline} instead of this one, named {@code base-N}: two builds side by
 * side in one run. An entry may add settings of its own, each {@code +NAME=value} with {@code
 * NAME} a {@code RAGLINE_} variable without that prefix: {@code 3+PRODUCER_COMPRESSION=none} is
 * {@code ragline-3+producer_compression=none}, one setting against the default in one run.
 */
public record DispatcherRuns(List<Run> runs) {
    private static final String BASE = "base:";
    private static final Pattern SETTING = Pattern.compile("[A-Z][A-Z0-9_]*");
    /** Settings whose values are not printed in a run's name. */
    private static final Pattern SECRET = Pattern.compile("PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL");

    /**
     * One dispatcher: its name in the results, its producers, the class path (null: this JVM's),
     * its own settings ({@code RAGLINE_*}), and a short identifier for its schema ({@code r2},
     * {@code b2}; {@code r3s1} for the second entry, which has settings of its own).
     */
    public record Run(String name, String producers, String classpath, Map<String, String> settings, String tag) {
        public Run(String name, String producers, String classpath) {
            this(name, producers, classpath, Map.of(), (classpath == null ? "r" : "b") + producers);
        }
    }

    /** The runs the system properties ask for. */
    public static DispatcherRuns fromSystemProperties() {
        return parse(System.getProperty("relay.producers", "1,2"), System.getProperty("relay.baseline"));
    }

    /** The runs {@code entries} (comma-separated) ask for, {@code base:} ones on {@code classpath}. */
    static DispatcherRuns parse(String entries, String classpath) {
        List<Run> runs = new ArrayList<>();
        String[] all = entries.split(",");
        for (int i = 0; i < all.length; i++) {
            String[] parts = all[i].strip().split("\\+");
            String entry = parts[0].strip();
            boolean base = entry.startsWith(BASE);
            if (base && (classpath == null || classpath.isBlank())) {
                throw new IllegalArgumentException(entry + " needs -Drelay.baseline=<the other build's class path>");
            }
            String producers = base ? entry.substring(BASE.length()) : entry;
            Run run = base
                    ? new Run("base-" + producers, producers, classpath)
                    : new Run("ragline-" + producers, producers, null);
            if (parts.length > 1) {
                Map<String, String> settings = new LinkedHashMap<>();
                StringBuilder name = new StringBuilder(run.name());
                for (int k = 1; k < parts.length; k++) {
                    String[] kv = parts[k].strip().split("=", 2);
                    String key = kv[0].strip();
                    if (kv.length != 2 || !SETTING.matcher(key).matches() || key.startsWith("RAGLINE_")) {
                        throw new IllegalArgumentException("'" + parts[k] + "' in " + all[i].strip()
                                + ": a setting is NAME=value, NAME in capitals without its RAGLINE_ prefix");
                    }
                    if (key.equals("OUTBOX_PRODUCERS")) {
                        throw new IllegalArgumentException(
                                all[i].strip() + ": the producers are the entry's number, not a setting");
                    }
                    settings.put("RAGLINE_" + key, kv[1].strip());
                    String shown = SECRET.matcher(key).find() ? "***" : kv[1].strip();
                    name.append('+')
                            .append(key.toLowerCase(Locale.ROOT))
                            .append('=')
                            .append(shown);
                }
                run = new Run(name.toString(), producers, run.classpath(), Map.copyOf(settings), run.tag() + "s" + i);
            }
            for (Run other : runs) {
                if (other.name().equals(run.name())) {
                    throw new IllegalArgumentException(run.name() + " is asked for twice in " + entries);
                }
            }
            runs.add(run);
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
