package io.ragline.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

/** What a benchmark states about the machine it ran on: CPU, cores, Java, Postgres, load. */
final class Machine {
    private Machine() {}

    /** The 1, 5 and 15 minute load averages ({@code /proc/loadavg}), or "n/a" off Linux. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    /** One line: CPU model, cores, Java, Postgres and pgvector versions. */
    static String describe(Connection c) throws Exception {
        String postgres;
        String pgvector;
        try (Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("show server_version")) {
                rs.next();
                postgres = rs.getString(1);
            }
            try (ResultSet rs = s.executeQuery("select extversion from pg_extension where extname = 'vector'")) {
                pgvector = rs.next() ? rs.getString(1) : "none";
            }
        }
        return cpu() + ", " + Runtime.getRuntime().availableProcessors() + " cores; Java "
                + System.getProperty("java.version") + "; PostgreSQL " + postgres + ", pgvector " + pgvector;
    }

    private static String cpu() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            return lines.stream()
                    .filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst()
                    .orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }
}
