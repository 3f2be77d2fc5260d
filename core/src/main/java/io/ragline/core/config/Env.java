package io.ragline.core.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Configuration variables, read once. Parsing never throws: each bad value is recorded as a
 * problem naming the variable, and {@link #validate()} throws one {@link ConfigException} with all
 * of them, so an operator fixes everything in one round.
 */
public final class Env {
    /** A variable's name inside a problem's text: {@code RAGLINE_DB_POOL_SIZE}, {@code DATABASE_URL}. */
    private static final Pattern VARIABLE = Pattern.compile("\\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\\b");

    /** {@code DATABASE_URL_FILE} holds what {@code DATABASE_URL} would: see {@link #secret}. */
    public static final String FILE_SUFFIX = "_FILE";

    private final Map<String, String> values;
    private final List<String> problems = new ArrayList<>();
    /** Every name asked for, set or not: what the code reads (the chart's tests hold their variables to it). */
    private final Set<String> asked = ConcurrentHashMap.newKeySet();
    /** Every prefix whose variables were listed ({@code RAGLINE_KAFKA_}, {@code RAGLINE_WEBHOOK_}). */
    private final Set<String> scanned = ConcurrentHashMap.newKeySet();

    public Env(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    /**
     * The process environment over {@code .ragline/dev.env} (written by {@code ragline dev up}) in
     * {@code RAGLINE_HOME} or the working directory: real variables always win.
     */
    public static Env load() {
        Map<String, String> merged = new HashMap<>();
        String home = System.getenv().getOrDefault("RAGLINE_HOME", ".");
        merged.putAll(readEnvFile(Path.of(home, ".ragline", "dev.env")));
        merged.putAll(System.getenv());
        return new Env(merged);
    }

    static Map<String, String> readEnvFile(Path file) {
        Map<String, String> values = new HashMap<>();
        if (!Files.isReadable(file)) {
            return values;
        }
        try {
            for (String line : Files.readAllLines(file)) {
                String l = line.strip();
                int eq = l.indexOf('=');
                if (l.isEmpty() || l.startsWith("#") || eq <= 0) {
                    continue;
                }
                String v = l.substring(eq + 1).strip();
                if (v.length() >= 2 && v.startsWith("'") && v.endsWith("'")) {
                    v = v.substring(1, v.length() - 1).replace("'\\''", "'");
                }
                values.put(l.substring(0, eq).strip(), v);
            }
            return values;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    public Optional<String> raw(String name) {
        asked.add(name);
        String v = values.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
    }

    public Map<String, String> all() {
        return values;
    }

    /**
     * The names of the variables set (blank included) that start with {@code prefix}, in order: a
     * scan, not a read. A caller reads each name it uses with {@link #raw} and the others, not asked
     * for, are not read.
     */
    public SortedSet<String> names(String prefix) {
        scanned.add(prefix);
        TreeSet<String> names = new TreeSet<>();
        for (String name : values.keySet()) {
            if (name.startsWith(prefix)) {
                names.add(name);
            }
        }
        return names;
    }

    /**
     * Every variable name this env was asked for so far ({@link #raw} and everything built on it,
     * {@code <name>_FILE} of a secret included), whether set or not: what the code that read it reads.
     */
    public SortedSet<String> asked() {
        return new TreeSet<>(asked);
    }

    /** Every prefix {@link #names} listed so far. */
    public SortedSet<String> scanned() {
        return new TreeSet<>(scanned);
    }

    /** A required value; records a problem and returns null when missing. */
    public String required(String name, String hint) {
        Optional<String> v = raw(name);
        if (v.isEmpty()) {
            problem(name + " is not set (" + hint + ")");
            return null;
        }
        return v.get();
    }

    /**
     * A secret: the variable itself, or the contents of the file named by {@code <name>_FILE} (the
     * Docker and Kubernetes convention, as the postgres image's {@code POSTGRES_PASSWORD_FILE}),
     * with trailing line breaks removed. Both set, or a file that cannot be read or is empty, is a
     * problem naming the variable and the path, never the contents.
     */
    public Optional<Secret> secret(String name) {
        String fileVariable = name + FILE_SUFFIX;
        Optional<String> direct = raw(name);
        Optional<String> path = raw(fileVariable);
        if (path.isEmpty()) {
            return direct.map(Secret::of);
        }
        if (direct.isPresent()) {
            problem(name + " and " + fileVariable + " are both set: keep one");
            return Optional.empty();
        }
        try {
            String contents = Files.readString(Path.of(path.get())).replaceAll("[\\r\\n]+$", "");
            if (contents.isBlank()) {
                problem(fileVariable + "='" + path.get() + "' names an empty file");
                return Optional.empty();
            }
            return Optional.of(Secret.of(contents));
        } catch (IOException | java.nio.file.InvalidPathException e) {
            problem(fileVariable + "='" + path.get() + "' cannot be read ("
                    + e.getClass().getSimpleName() + ")");
            return Optional.empty();
        }
    }

    /** A required secret ({@link #secret}); records a problem naming both variables when neither is set. */
    public Secret requiredSecret(String name, String hint) {
        Optional<Secret> v = secret(name);
        if (v.isEmpty() && raw(name).isEmpty() && raw(name + FILE_SUFFIX).isEmpty()) {
            problem(name + " is not set (" + hint + "; or " + name + FILE_SUFFIX + " naming a file that holds it)");
        }
        return v.orElse(null);
    }

    public String string(String name, String defaultValue) {
        return raw(name).orElse(defaultValue);
    }

    public int integer(String name, int defaultValue, int min, int max) {
        return parse(name, defaultValue, s -> {
            int v = Integer.parseInt(s);
            if (v < min || v > max) {
                throw new IllegalArgumentException("must be between " + min + " and " + max);
            }
            return v;
        });
    }

    /** Any {@code int}: the settings record's constructor checks the range and names the variable. */
    public int integer(String name, int defaultValue) {
        return integer(name, defaultValue, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    public int port(String name, int defaultValue) {
        return integer(name, defaultValue, 0, 65535);
    }

    public boolean bool(String name, boolean defaultValue) {
        return parse(name, defaultValue, s -> switch (s.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw new IllegalArgumentException("must be true or false");
        });
    }

    /** {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, {@code 30d}, or an ISO-8601 duration. */
    public Duration duration(String name, Duration defaultValue) {
        return parse(name, defaultValue, Env::parseDuration);
    }

    /**
     * A duration ({@link #duration}) or {@code off} (empty); {@code defaultValue} empty means off
     * by default.
     */
    public Optional<Duration> durationOrOff(String name, Optional<Duration> defaultValue) {
        return parse(
                name,
                defaultValue,
                s -> s.strip().equalsIgnoreCase("off") ? Optional.empty() : Optional.of(parseDuration(s)));
    }

    public <E extends Enum<E>> E choice(String name, E defaultValue, Class<E> type) {
        return parse(name, defaultValue, s -> {
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(s)) {
                    return e;
                }
            }
            List<String> names = new ArrayList<>();
            for (E e : type.getEnumConstants()) {
                names.add(e.name().toLowerCase(Locale.ROOT));
            }
            throw new IllegalArgumentException("must be one of " + String.join(", ", names));
        });
    }

    /** Records a problem; the message must name the variable and must hold no secret. */
    public void problem(String message) {
        problems.add(message);
    }

    /**
     * Builds a settings record from the values just read. Its compact constructor refuses bad
     * values with a {@link ConfigException}: its problems join this env's, except those naming a
     * variable already reported (they are about the default that {@code Env} put in place of the
     * bad value), and {@code fallback} is returned instead, so reading goes on and {@link
     * #validate()} reports every problem at once.
     */
    public <T> T build(Supplier<T> constructor, Supplier<T> fallback) {
        try {
            return constructor.get();
        } catch (ConfigException e) {
            List<String> reported = List.copyOf(problems);
            for (String p : e.problems()) {
                if (!namesAVariableOf(reported, p)) {
                    problem(p);
                }
            }
            return fallback.get();
        }
    }

    private static boolean namesAVariableOf(List<String> reported, String problem) {
        Matcher m = VARIABLE.matcher(problem);
        while (m.find()) {
            String name = m.group();
            if (reported.stream().anyMatch(p -> p.startsWith(name) && !continuesName(p, name.length()))) {
                return true;
            }
        }
        return false;
    }

    private static boolean continuesName(String problem, int at) {
        return problem.length() > at && (Character.isLetterOrDigit(problem.charAt(at)) || problem.charAt(at) == '_');
    }

    public List<String> problems() {
        return List.copyOf(problems);
    }

    public void validate() {
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }

    private <T> T parse(String name, T defaultValue, Function<String, T> parser) {
        Optional<String> v = raw(name);
        if (v.isEmpty()) {
            return defaultValue;
        }
        try {
            return parser.apply(v.get());
        } catch (RuntimeException e) {
            String why = e instanceof NumberFormatException || e instanceof DateTimeParseException
                    ? "is not a valid value"
                    : e.getMessage();
            problem(name + "='" + v.get() + "' " + why);
            return defaultValue;
        }
    }

    /**
     * A duration as every variable takes it: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h},
     * {@code 30d} (days of 24 hours), ISO-8601, or a bare {@code 0}.
     */
    public static Duration parseDuration(String s) {
        String t = s.strip().toLowerCase(Locale.ROOT);
        if (t.equals("0")) {
            return Duration.ZERO; // the one duration that needs no unit
        }
        if (t.startsWith("p")) {
            return Duration.parse(t.toUpperCase(Locale.ROOT));
        }
        String[][] units = {{"ms", "MILLIS"}, {"s", "SECONDS"}, {"m", "MINUTES"}, {"h", "HOURS"}, {"d", "DAYS"}};
        for (String[] u : units) {
            if (t.endsWith(u[0])) {
                long n = Long.parseLong(
                        t.substring(0, t.length() - u[0].length()).strip());
                if (n < 0) {
                    throw new IllegalArgumentException("must not be negative");
                }
                return Duration.of(n, java.time.temporal.ChronoUnit.valueOf(u[1]));
            }
        }
        throw new IllegalArgumentException("must be a duration such as 500ms, 10s, 5m, 1h or 30d");
    }
}
