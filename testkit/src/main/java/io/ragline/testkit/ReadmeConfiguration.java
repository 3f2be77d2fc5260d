package io.ragline.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration tables of the repository's README ({@code | `VARIABLE` | default | meaning |}),
 * so that a settings test can hold each documented default against the constant the code uses.
 */
public final class ReadmeConfiguration {
    private static final Pattern ROW = Pattern.compile("^\\|\\s*`([A-Z][A-Z0-9_<>]*)`\\s*\\|([^|]*)\\|");
    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Z][A-Z0-9]*(_[A-Z0-9]+)+");

    private final Map<String, String> defaults;

    private ReadmeConfiguration(Map<String, String> defaults) {
        this.defaults = defaults;
    }

    /** Reads README.md of the repository holding the working directory (a module's or the root). */
    public static ReadmeConfiguration read() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !(Files.isRegularFile(dir.resolve("README.md")) && Files.exists(dir.resolve("mvnw")))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException(
                    "no README.md beside mvnw above " + Path.of("").toAbsolutePath());
        }
        Map<String, String> defaults = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(dir.resolve("README.md"))) {
                Matcher m = ROW.matcher(line);
                if (m.find()) {
                    defaults.putIfAbsent(m.group(1), m.group(2).strip());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new ReadmeConfiguration(defaults);
    }

    /** The default column of {@code variable}'s row, as written; null when the README has no row. */
    public String defaultOf(String variable) {
        return defaults.get(variable);
    }

    /** Every variable with a row. */
    public Set<String> variables() {
        return defaults.keySet();
    }

    /**
     * The variable names a settings class declares: its {@code public static final String}
     * constants whose value looks like one ({@code RAGLINE_DB_POOL_SIZE}, {@code DATABASE_URL}),
     * not a default.
     */
    public static Set<String> variablesOf(Class<?> settings) {
        Set<String> names = new TreeSet<>();
        for (Field f : settings.getDeclaredFields()) {
            int mods = f.getModifiers();
            if (Modifier.isPublic(mods)
                    && Modifier.isStatic(mods)
                    && Modifier.isFinal(mods)
                    && f.getType() == String.class
                    && !f.getName().startsWith("DEFAULT_")) {
                try {
                    String value = (String) f.get(null);
                    if (VARIABLE_NAME.matcher(value).matches()) {
                        names.add(value);
                    }
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return names;
    }

    /** {@code value} as README writes a literal default: in backticks. */
    public static String code(Object value) {
        return "`" + value + "`";
    }
}
