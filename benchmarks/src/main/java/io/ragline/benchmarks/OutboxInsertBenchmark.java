package io.ragline.benchmarks;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Migrations;
import io.ragline.core.outbox.Outbox;
import io.ragline.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue 21's bulk insert: {@code rows} outbox rows on 100 keys in one transaction, through {@link
 * Outbox#append(Connection, List)} (one statement) and, interleaved on the same schema, through the
 * JDBC batch it used before (the driver executes a batch row by row), with the per-key trigger in
 * both. Each round commits, then the rows are deleted. Arguments: {@code [rounds (6)] [rows
 * (20000)]}; the first round warms the JIT and is printed but left out of the medians.
 *
 * <p>{@code ./mvnw -q -pl benchmarks exec:java
 * -Dexec.mainClass=io.ragline.benchmarks.OutboxInsertBenchmark -Dexec.args="6 20000"}
 */
public final class OutboxInsertBenchmark {
    private OutboxInsertBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 6;
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        DatabaseUrl url =
                DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
        String schema = "bench_" + Long.toString(System.nanoTime(), 36);
        new Migrations(url, schema, "bench").migrate();
        List<Outbox.Row> rows = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            rows.add(new Outbox.Row(
                    "bench", "k" + (i % 100), "{\"n\":" + i + ",\"pad\":\"" + "x".repeat(150) + "\"}", Map.of()));
        }
        System.out.printf(Locale.ROOT, "load average %s; %,d rows on 100 keys a round%n", Machine.loadAverage(), count);
        System.out.println("| round | one statement (Outbox.append) rows/s | JDBC batch rows/s | ratio |");
        System.out.println("|---:|---:|---:|---:|");
        List<Double> ratios = new ArrayList<>();
        List<Double> appends = new ArrayList<>();
        try (Connection c = BenchmarkDatabase.connect(url)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("set search_path to " + schema + ", public");
            }
            c.commit();
            for (int round = 0; round < rounds; round++) {
                double statement = timed(c, () -> Outbox.append(c, rows), count);
                double batch = timed(c, () -> batch(c, rows), count);
                System.out.printf(
                        Locale.ROOT, "| %d | %,.0f | %,.0f | %.2f |%n", round, statement, batch, statement / batch);
                if (round > 0) {
                    ratios.add(statement / batch);
                    appends.add(statement);
                }
            }
        } finally {
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
        }
        if (!ratios.isEmpty()) {
            System.out.printf(
                    Locale.ROOT,
                    "Outbox.append median %,.0f rows/s (min %,.0f); ratio to the batch median %.2f (%.2f-%.2f)%n",
                    median(appends),
                    appends.stream().mapToDouble(d -> d).min().orElseThrow(),
                    median(ratios),
                    ratios.stream().mapToDouble(d -> d).min().orElseThrow(),
                    ratios.stream().mapToDouble(d -> d).max().orElseThrow());
        }
    }

    private interface Insert {
        void run() throws Exception;
    }

    /** Rows per second of one insert and its commit; the rows are deleted afterwards. */
    private static double timed(Connection c, Insert insert, int count) throws Exception {
        long start = System.nanoTime();
        insert.run();
        c.commit();
        double seconds = (System.nanoTime() - start) / 1e9;
        try (Statement s = c.createStatement()) {
            s.execute("delete from outbox where topic = 'bench'");
        }
        c.commit();
        return count / seconds;
    }

    /** What {@code Outbox.append} did before: one JDBC batch, which the driver runs row by row. */
    private static void batch(Connection c, List<Outbox.Row> rows) throws Exception {
        try (PreparedStatement s = c.prepareStatement("insert into outbox (topic, key, payload, headers, priority)"
                + " values (?, ?, ?::jsonb, '{}'::jsonb, 0)")) {
            for (Outbox.Row r : rows) {
                s.setString(1, r.topic());
                s.setString(2, r.key());
                s.setString(3, r.payloadJson());
                s.addBatch();
            }
            s.executeBatch();
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
