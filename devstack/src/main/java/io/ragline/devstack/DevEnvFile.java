package io.ragline.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code .ragline/dev.env}: shell-sourceable {@code KEY=value} lines. Values are single-quoted
 * when they hold anything a shell would interpret, so {@code . .ragline/dev.env} is safe.
 */
public final class DevEnvFile {
    private DevEnvFile() {}

    public static void write(Path file, Map<String, String> values) {
        StringBuilder text = new StringBuilder("# Written by `ragline dev up`. Source it: . .ragline/dev.env\n");
        values.forEach((k, v) -> text.append(k).append('=').append(quote(v)).append('\n'));
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, text);
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system; the file still works
            }
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public static Map<String, String> read(Path file) {
        Map<String, String> values = new LinkedHashMap<>();
        if (!Files.exists(file)) {
            return values;
        }
        try {
            for (String line : Files.readAllLines(file)) {
                String l = line.strip();
                int eq = l.indexOf('=');
                if (l.isEmpty() || l.startsWith("#") || eq <= 0) {
                    continue;
                }
                values.put(
                        l.substring(0, eq).strip(), unquote(l.substring(eq + 1).strip()));
            }
            return values;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    static String quote(String v) {
        if (v.matches("[A-Za-z0-9_./:@%+,=-]*")) {
            return v;
        }
        return "'" + v.replace("'", "'\\''") + "'";
    }

    static String unquote(String v) {
        if (v.length() >= 2 && v.startsWith("'") && v.endsWith("'")) {
            return v.substring(1, v.length() - 1).replace("'\\''", "'");
        }
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }
}
