package io.ragline.benchmarks;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Database;
import io.ragline.core.db.Migrations;
import io.ragline.core.outbox.Outbox;
import io.ragline.dispatcher.outbox.OutboxRow;
import io.ragline.dispatcher.outbox.OutboxStore;
import io.ragline.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.sql.DataSource;
import org.postgresql.PGStatement;

/**
 * The event-dispatcher's claim alone (issue 21's drain), before and after the in-order claim (V36),
 * on one schema, interleaved: each round inserts a backlog of {@code rows} outbox rows on 100 keys
 * in one transaction and drains it with claims of 5,000 (each deleting the batch before, as the
 * relay does), once with each of:
 *
 * <ul>
 *   <li>{@code before}: the ranked claim as it was sent before V36 ({@link #BEFORE}, copied here),
 *       every condition on what is held back present with empty lists, as the relay sent it;
 *   <li>{@code in order}: {@link OutboxStore#next} with no row urgent, nothing held back (the
 *       relay's usual state);
 *   <li>{@code ranked}: {@link OutboxStore#next} with the newest row of each backlog (and of each
 *       4 rows) made urgent before its claims, untimed: the probe finds it wherever it is, so every
 *       claim ranks, and the claims take the same rows as in the other modes.
 * </ul>
 *
 * Before each round's backlogs, {@code small} claims of 4 rows in each mode (the latency regime:
 * a few rows a claim), the modes taking turns claim by claim. Only the claims are timed, through JDBC as the relay sends them (a pooled
 * connection, unnamed statements, every row read into an {@link OutboxRow} or its equivalent).
 * Arguments: {@code [rounds (7)] [rows (20000)] [small claims a round (200)]}; round 0 warms up and
 * is left out of the medians.
 *
 * <p>{@code java -cp benchmarks/target/classes:$(cat /tmp/bench.cp)
 * io.ragline.benchmarks.OutboxClaimBenchmark 7 20000 200}
 */
public final class OutboxClaimBenchmark {
    private OutboxClaimBenchmark() {}

    private static final int BATCH = 5_000;
    private static final int LOOKAHEAD = 10_000;

    /** The claim of OutboxStore before V36 (main at d0fc28c), with the delete sent in front of it. */
    static final String BEFORE = "with oldest as (select id, topic, key, priority from outbox o where not exists"
            + " (select 1 from unnest(?::text[], ?::text[]) h(topic, key) where h.topic = o.topic and h.key = o.key)"
            + " and o.topic <> all(?::text[]) and o.id <> all(?::bigint[]) order by id limit ?), ranked as (select id,"
            + " max(priority) over (partition by topic, key order by id desc rows unbounded preceding) as effective"
            + " from oldest), chosen as (select id, effective from ranked order by effective desc, id limit ?)"
            + " select o.id, o.topic, o.key, o.payload::text, o.headers::text, o.created_at, o.attempts,"
            + " extract(epoch from clock_timestamp() - o.created_at) from chosen c cross join lateral (select *"
            + " from outbox x where x.id = c.id offset 0) o order by c.effective desc, c.id";

    enum Mode {
        BEFORE("before"),
        IN_ORDER("in order"),
        RANKED("ranked");

        final String label;

        Mode(String label) {
            this.label = label;
        }
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        int smalls = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        DatabaseUrl url =
                DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
        String schema = "bench_claim_" + Long.toString(System.nanoTime(), 36);
        new Migrations(url, schema, "bench").migrate();
        List<Outbox.Row> rows = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            rows.add(new Outbox.Row(
                    "bench", "k" + (i % 100), "{\"n\":" + i + ",\"pad\":\"" + "x".repeat(150) + "\"}", Map.of()));
        }
        String machine;
        try (Connection c = BenchmarkDatabase.connect(url)) {
            machine = Machine.describe(c);
        }
        System.out.printf(
                Locale.ROOT,
                "%s; a backlog of %,d rows on 100 keys drained in claims of %,d; %d claims of 4 rows%n",
                machine,
                count,
                BATCH,
                smalls);
        System.out.println("| round | mode | backlog: claims | their time, ms | per 5,000-row claim, ms (median) |"
                + " small claims: median ms | p99 ms |");
        System.out.println("|---:|---|---:|---:|---:|---:|---:|");
        Map<Mode, List<Double>> drains = new EnumMap<>(Mode.class);
        Map<Mode, List<Double>> small = new EnumMap<>(Mode.class);
        try (var pool = Database.pool(url, schema, 2, "bench", null)) {
            Map<Mode, OutboxStore> stores = new EnumMap<>(Mode.class);
            for (Mode mode : Mode.values()) {
                stores.put(mode, new OutboxStore(pool));
            }
            Mode[] order = Mode.values();
            for (int round = 0; round < rounds; round++) {
                Map<Mode, List<Double>> smallClaims = smallClaims(pool, stores, smalls, round);
                for (int m = 0; m < order.length; m++) {
                    Mode mode = order[(m + round) % order.length];
                    try (Connection c = pool.getConnection()) {
                        c.setAutoCommit(false);
                        Outbox.append(c, rows);
                        c.commit();
                    }
                    if (mode == Mode.RANKED) {
                        urgent(pool);
                    }
                    List<Double> claims = drain(pool, stores.get(mode), mode);
                    double total = claims.stream().mapToDouble(d -> d).sum();
                    System.out.printf(
                            Locale.ROOT,
                            "| %d | %s | %d | %.1f | %.1f | %.2f | %.2f |%n",
                            round,
                            mode.label,
                            claims.size(),
                            total,
                            median(claims.subList(0, Math.max(1, claims.size() - 1))),
                            median(smallClaims.get(mode)),
                            percentile(smallClaims.get(mode), 0.99));
                    if (round > 0) {
                        drains.computeIfAbsent(mode, k -> new ArrayList<>()).add(total);
                        small.computeIfAbsent(mode, k -> new ArrayList<>()).add(median(smallClaims.get(mode)));
                    }
                }
            }
        } finally {
            if (System.getenv("RAGLINE_BENCH_KEEP") != null) { // for EXPLAIN by hand
                System.out.println("schema kept: " + schema);
            } else {
                BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
            }
        }
        if (drains.isEmpty()) {
            return;
        }
        for (Mode mode : List.of(Mode.IN_ORDER, Mode.RANKED)) {
            List<Double> drainRatios = ratios(drains.get(Mode.BEFORE), drains.get(mode));
            List<Double> smallRatios = ratios(small.get(Mode.BEFORE), small.get(mode));
            System.out.printf(
                    Locale.ROOT,
                    "%s: the backlog's claims %.1f ms (median) against %.1f before: before / %s %.2f× (%.2f-%.2f);"
                            + " small claims %.2f against %.2f ms: %.2f× (%.2f-%.2f)%n",
                    mode.label,
                    median(drains.get(mode)),
                    median(drains.get(Mode.BEFORE)),
                    mode.label,
                    median(drainRatios),
                    min(drainRatios),
                    max(drainRatios),
                    median(small.get(mode)),
                    median(small.get(Mode.BEFORE)),
                    median(smallRatios),
                    min(smallRatios),
                    max(smallRatios));
        }
    }

    /** For {@code ranked}, the newest waiting row made urgent, so that the claims rank. */
    private static void urgent(DataSource pool) throws SQLException {
        try (Connection c = pool.getConnection();
                Statement s = c.createStatement()) {
            s.execute("update outbox set priority = 9 where id = (select max(id) from outbox)");
        }
    }

    /** Claims until the outbox is empty; each claim's ms. */
    private static List<Double> drain(DataSource pool, OutboxStore store, Mode mode) throws SQLException {
        List<Double> times = new ArrayList<>();
        List<Long> published = List.of();
        while (true) {
            long start = System.nanoTime();
            List<OutboxRow> claimed = claim(pool, store, mode, published, BATCH);
            times.add((System.nanoTime() - start) / 1e6);
            if (claimed.isEmpty()) {
                return times;
            }
            published = claimed.stream().map(OutboxRow::id).toList();
        }
    }

    /**
     * {@code n} claims of 4 rows in each mode, the modes taking turns claim by claim; each claim's
     * 4 rows (4 keys, one transaction) are inserted just before it, and it deletes the 4 before.
     */
    private static Map<Mode, List<Double>> smallClaims(DataSource pool, Map<Mode, OutboxStore> stores, int n, int round)
            throws SQLException {
        List<Outbox.Row> four = List.of(
                new Outbox.Row("bench", "a", "{\"n\":1}", Map.of()),
                new Outbox.Row("bench", "b", "{\"n\":2}", Map.of()),
                new Outbox.Row("bench", "c", "{\"n\":3}", Map.of()),
                new Outbox.Row("bench", "d", "{\"n\":4}", Map.of()));
        Map<Mode, List<Double>> times = new EnumMap<>(Mode.class);
        List<Long> published = List.of();
        Mode[] modes = Mode.values();
        for (int i = 0; i < n; i++) {
            for (int m = 0; m < modes.length; m++) {
                Mode mode = modes[(m + i + round) % modes.length];
                try (Connection c = pool.getConnection()) {
                    c.setAutoCommit(false);
                    Outbox.append(c, four);
                    c.commit();
                }
                if (mode == Mode.RANKED) {
                    urgent(pool);
                }
                long start = System.nanoTime();
                List<OutboxRow> claimed = claim(pool, stores.get(mode), mode, published, BATCH);
                times.computeIfAbsent(mode, k -> new ArrayList<>()).add((System.nanoTime() - start) / 1e6);
                if (claimed.size() != four.size()) {
                    throw new IllegalStateException(mode.label + " claimed " + claimed.size() + " rows, not 4");
                }
                published = claimed.stream().map(OutboxRow::id).toList();
            }
        }
        stores.get(Mode.IN_ORDER).delete(published);
        return times;
    }

    private static List<OutboxRow> claim(DataSource pool, OutboxStore store, Mode mode, List<Long> published, int batch)
            throws SQLException {
        return switch (mode) {
            case IN_ORDER -> store.next(published, batch, LOOKAHEAD, List.of(), List.of(), List.of());
            case RANKED -> store.next(published, batch, LOOKAHEAD, List.of(), List.of(), List.of());
            case BEFORE -> before(pool, published, batch);
        };
    }

    /** The claim before V36, sent and read as OutboxStore did (headers read as text only). */
    private static List<OutboxRow> before(DataSource pool, List<Long> published, int batch) throws SQLException {
        boolean deletes = !published.isEmpty();
        List<OutboxRow> rows = new ArrayList<>();
        try (Connection c = pool.getConnection();
                PreparedStatement s =
                        c.prepareStatement(deletes ? "delete from outbox where id = any(?); " + BEFORE : BEFORE)) {
            s.unwrap(PGStatement.class).setPrepareThreshold(0);
            int at = 0;
            if (deletes) {
                s.setArray(++at, c.createArrayOf("bigint", published.toArray()));
            }
            s.setArray(++at, c.createArrayOf("text", new Object[0]));
            s.setArray(++at, c.createArrayOf("text", new Object[0]));
            s.setArray(++at, c.createArrayOf("text", new Object[0]));
            s.setArray(++at, c.createArrayOf("bigint", new Object[0]));
            s.setInt(++at, LOOKAHEAD);
            s.setInt(++at, batch);
            boolean isResultSet = s.execute();
            while (!isResultSet) {
                isResultSet = s.getMoreResults();
            }
            try (ResultSet rs = s.getResultSet()) {
                long now = System.nanoTime();
                while (rs.next()) {
                    rs.getString(5);
                    rows.add(new OutboxRow(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getString(4),
                            Map.of(),
                            rs.getTimestamp(6).toInstant(),
                            rs.getInt(7),
                            now - (long) (rs.getDouble(8) * 1e9)));
                }
            }
        }
        return rows;
    }

    private static List<Double> ratios(List<Double> before, List<Double> after) {
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < Math.min(before.size(), after.size()); i++) {
            out.add(before.get(i) / after.get(i));
        }
        return out;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static double percentile(List<Double> values, double p) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(d -> d).min().orElseThrow();
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(d -> d).max().orElseThrow();
    }
}
