package io.ragline.benchmarks;

import io.ragline.benchmarks.relay.BrokerVerifications;
import io.ragline.benchmarks.relay.CpuAccount;
import io.ragline.benchmarks.relay.DispatcherRuns;
import io.ragline.benchmarks.relay.Measured;
import io.ragline.benchmarks.relay.OfferedLoad;
import io.ragline.benchmarks.relay.Receipts;
import io.ragline.benchmarks.relay.RelayPhases;
import io.ragline.benchmarks.relay.RelayProcess;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Migrations;
import io.ragline.core.outbox.Outbox;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.TestServices;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue 21: the outbox relay's latency where consumers see it. Ragline's event-dispatcher, once
 * per {@code RAGLINE_OUTBOX_PRODUCERS} value ({@code -Drelay.producers}, 1 and 2 unless given:
 * {@code ragline-1}, {@code ragline-2}), and a Debezium embedded outbox relay ({@code benchmarks-debezium}) run side by side, each in its own JVM, each
 * draining its own schema's outbox (same table, same triggers) on the same Postgres and broker
 * into a topic that already exists; one independent {@code read_committed} consumer ({@link
 * Receipts}) times insert ({@code clock_timestamp()} in the row) to receipt. Rounds are
 * interleaved (the order rotated by one each round, so each relay takes every place) at each
 * offered rate; then, for each, the drain of a committed 20,000-row backlog and the time to
 * insert it (one transaction, 100 keys). Ratios are printed for each dispatcher against Debezium
 * and for each against the first listed.
 *
 * <p>Arguments: {@code [rounds per relay and rate (3)] [seconds a round (30)] [backlog drains per
 * relay (rounds, at least 3)]}; the short form is {@code 1 5}. The relays run in child JVMs on this
 * JVM's class path, so it runs with {@code java -cp} (docs/benchmarks.md), not {@code exec:java}.
 * Needs {@code wal_level=logical} and {@code ./mvnw -B -q package -pl benchmarks-debezium}. {@code RAGLINE_OUTBOX_*} variables of
 * this process are handed to the event-dispatcher, to try its settings. With {@code
 * -Drelay.brokerPid=<pid>[,<pid>...]} (the broker JVMs on this machine) each round also prints the
 * brokers' count of transaction verifications and of those that had to wait ({@link
 * BrokerVerifications}) and their CPU time; every round prints its CPU account ({@link CpuAccount}).
 */
public final class RelayLatencyBenchmark {
    private static final int BACKLOG = 20_000;
    private static final int[] RATES = {500, 2000};
    /** The dispatchers to run: {@code -Drelay.producers}, {@code -Drelay.baseline} ({@link DispatcherRuns}). */
    private static final DispatcherRuns RUNS = DispatcherRuns.fromSystemProperties();
    /**
     * The broker's JVM, for its own count of transaction verifications per round ({@link
     * BrokerVerifications}); the dev broker's pid is the first word of {@code .ragline/kafka/pid}.
     */
    private static final String BROKER_PID = System.getProperty("relay.brokerPid");
    /** A directory for each round's slowest 1 % of rows, to set beside GC and other logs; null: none written. */
    private static final String SLOW_ROWS = System.getProperty("relay.slowRows");

    /** Null unless {@code relay.brokerPid} is given. */
    private static BrokerVerifications broker;

    private RelayLatencyBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 30;
        int drains = args.length > 2 ? Integer.parseInt(args[2]) : Math.max(3, rounds);
        String databaseUrl = TestServices.get().databaseUrl();
        String bootstrap = TestServices.get().kafkaBootstrapServers();
        DatabaseUrl url = DatabaseUrl.parse(databaseUrl).url().orElseThrow();
        prepare(url);
        String tag = Long.toString(System.nanoTime(), 36);
        Map<String, String> raglineSettings = new HashMap<>();
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("RAGLINE_OUTBOX_")) {
                raglineSettings.put(k, v);
            }
        });
        System.out.println("event-dispatcher settings: " + raglineSettings);
        Map<String, Side> sides = new LinkedHashMap<>();
        for (DispatcherRuns.Run run : RUNS.runs()) {
            sides.put(run.name(), new Side(schema(url, "relay_bench_" + run.tag() + "_" + tag)));
        }
        sides.put("debezium", new Side(schema(url, "relay_bench_d_" + tag)));
        List<String> topics = new ArrayList<>();
        for (Side side : sides.values()) {
            side.topic = KafkaTopics.create("relay-latency", 6);
            side.backlogTopic = KafkaTopics.create("relay-backlog", 6);
            topics.add(side.topic);
            topics.add(side.backlogTopic);
        }
        List<RelayProcess> relays = new ArrayList<>();
        try (Receipts receipts = new Receipts(bootstrap, topics);
                BrokerVerifications verifications = BrokerVerifications.attach(BROKER_PID)) {
            broker = verifications;
            for (DispatcherRuns.Run run : RUNS.runs()) {
                Side side = sides.get(run.name());
                Map<String, String> settings = new HashMap<>(raglineSettings);
                settings.put("RAGLINE_OUTBOX_PRODUCERS", run.producers());
                settings.putAll(run.settings());
                int adminPort;
                try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
                    adminPort = free.getLocalPort();
                }
                settings.put("RAGLINE_ADMIN_PORT", String.valueOf(adminPort));
                side.phases = new RelayPhases(adminPort);
                side.relay = RelayProcess.ragline(
                        run.name(), run.classpath(), databaseUrl, bootstrap, side.schema, settings);
                relays.add(side.relay);
            }
            Side debezium = sides.get("debezium");
            debezium.relay = RelayProcess.debezium(databaseUrl, bootstrap, debezium.schema, "relay_bench_" + tag);
            relays.add(debezium.relay);
            for (Side side : sides.values()) { // warm-up, not counted: leadership, JIT, metadata
                round(url, receipts, side, 500, 3, 0);
            }
            System.out.println(
                    "| rate | round | relay | rows | p50 ms | p90 ms | p99 ms | max ms | writers behind ms |");
            System.out.println("|---|---|---|---|---|---|---|---|---|");
            for (int rate : RATES) {
                for (int r = 0; r < rounds; r++) {
                    for (Side side : interleaved(sides, r)) {
                        double[] p = round(url, receipts, side, rate, seconds, r + 1);
                        side.measured.round(rate, p);
                    }
                }
            }
            for (String[] pair : RUNS.compared()) {
                Side r = sides.get(pair[0]);
                Side d = sides.get(pair[1]);
                Measured.printRatios(r.relay.name(), r.measured, d.relay.name(), d.measured, RATES);
            }
            // One drain per relay says little on a shared machine (a single run measured 0.4x, the
            // next 2.3x): drains are repeated, interleaved like the rounds, and compared pair by pair.
            for (int n = 0; n < drains; n++) {
                for (Side side : interleaved(sides, n)) {
                    backlog(url, receipts, side);
                }
            }
            for (String[] pair : RUNS.compared()) {
                Side r = sides.get(pair[0]);
                Side d = sides.get(pair[1]);
                Measured.printDrains(r.relay.name(), r.measured, d.relay.name(), d.measured, BACKLOG);
            }
        } finally {
            for (RelayProcess relay : relays) {
                try {
                    relay.close();
                } catch (Exception e) {
                    System.err.println(relay.name() + " did not stop cleanly: " + e);
                }
            }
            for (Side side : sides.values()) {
                BenchmarkDatabase.execute(url, "drop schema if exists " + side.schema + " cascade");
            }
            BenchmarkDatabase.execute(url, "drop publication if exists relay_bench_" + tag);
        }
    }

    /** The sides in round {@code r}'s order: rotated by one each round, so each takes every place. */
    private static List<Side> interleaved(Map<String, Side> sides, int r) {
        List<Side> order = new ArrayList<>(sides.values());
        java.util.Collections.rotate(order, -(r % order.size()));
        return order;
    }

    /**
     * Fails unless the cluster decodes WAL logically; drops the slots and publications a crashed
     * run left behind (a slot would hold the WAL back for ever); prints the machine.
     */
    private static void prepare(DatabaseUrl url) throws Exception {
        try (Connection c = BenchmarkDatabase.connect(url);
                Statement s = c.createStatement()) {
            var rs = s.executeQuery("show wal_level");
            rs.next();
            if (!"logical".equals(rs.getString(1))) {
                throw new IllegalStateException(
                        "the Debezium relay needs wal_level=logical; this Postgres has " + rs.getString(1));
            }
            // A slot a crashed run left behind would hold the WAL back for ever.
            s.execute("select pg_drop_replication_slot(slot_name) from pg_replication_slots"
                    + " where slot_name like 'relay_bench_%' and not active");
            try (var pubs = s.executeQuery("select pubname from pg_publication where pubname like 'relay_bench_%'"
                    + " and pubname not in (select slot_name from pg_replication_slots)")) {
                List<String> stale = new ArrayList<>();
                while (pubs.next()) {
                    stale.add(pubs.getString(1));
                }
                for (String pub : stale) {
                    s.execute("drop publication " + pub);
                }
            }
            System.out.println(Machine.describe(c) + "; load " + Machine.loadAverage());
        }
    }

    /** One relay's schema and topics, and what was measured of it. */
    private static final class Side {
        final String schema;
        String topic;
        String backlogTopic;
        RelayProcess relay;
        /** The event-dispatcher's phase timers; null for Debezium. */
        RelayPhases phases;

        final Measured measured = new Measured();

        Side(String schema) {
            this.schema = schema;
        }
    }

    /** Offers {@code rate} rows/s for {@code seconds}; returns p50, p90, p99, max in ms. */
    private static double[] round(DatabaseUrl url, Receipts receipts, Side side, int rate, double seconds, int round)
            throws Exception {
        receipts.drainLatencies(side.topic);
        if (round > 0) {
            markPhases(side);
        }
        long before = receipts.received(side.topic);
        CpuAccount cpu = CpuAccount.mark(side.relay.pid(), BrokerVerifications.pids(BROKER_PID));
        OfferedLoad.Offered offered =
                OfferedLoad.offer(() -> BenchmarkDatabase.connect(url), side.schema, side.topic, rate, seconds);
        if (!receipts.await(side.topic, before + offered.rows(), Duration.ofSeconds(120))) {
            side.relay.checkAlive();
            throw new IllegalStateException(side.relay.name() + ": only " + (receipts.received(side.topic) - before)
                    + " of " + offered.rows() + " rows arrived");
        }
        String used = cpu.since(offered.rows());
        Receipts.Samples samples = receipts.drainSamples(side.topic);
        long[] latencies = samples.latencies();
        double[] p = {
            Latencies.percentileMillis(latencies, 0.5),
            Latencies.percentileMillis(latencies, 0.9),
            Latencies.percentileMillis(latencies, 0.99),
            Latencies.percentileMillis(latencies, 1.0)
        };
        System.out.printf(
                Locale.ROOT,
                "| %,d/s | %s | %s | %,d | %.1f | %.1f | %.1f | %.1f | %.1f |%n",
                rate,
                round == 0 ? "warm-up" : String.valueOf(round),
                side.relay.name(),
                offered.rows(),
                p[0],
                p[1],
                p[2],
                p[3],
                offered.behindMillis());
        double[] all = samples.medianSplitAtOrAbove(0);
        double[] tail = samples.medianSplitAtOrAbove(0.99);
        System.out.printf(
                Locale.ROOT,
                "|   | before / after the send, median ms | all rows %.1f / %.1f | the slowest 1 %% %.1f / %.1f |%n",
                all[0],
                all[1],
                tail[0],
                tail[1]);
        System.out.println("  " + used);
        if (SLOW_ROWS != null && round > 0) {
            writeSlowRows(samples, side, rate, round);
        }
        if (round > 0) {
            printPhases(side);
        }
        return p;
    }

    /** The round's rows at or above its p99 into {@code -Drelay.slowRows}, one file a relay, rate and round. */
    private static void writeSlowRows(Receipts.Samples samples, Side side, int rate, int round) throws IOException {
        Path dir = Path.of(SLOW_ROWS);
        Files.createDirectories(dir);
        String file = (side.relay.name() + "-" + rate + "-" + round + ".tsv").replaceAll("[^A-Za-z0-9._=+-]", "_");
        samples.writeAtOrAbove(0.99, dir.resolve(file));
    }

    /**
     * Inserts {@value #BACKLOG} rows on 100 keys in one transaction through {@link Outbox#append}
     * (timed: insert and commit), then times from the commit to the consumer's receipt of the last.
     */
    private static void backlog(DatabaseUrl url, Receipts receipts, Side side) throws Exception {
        long before = receipts.received(side.backlogTopic);
        String body = "x".repeat(150);
        List<Outbox.Row> rows = new ArrayList<>(BACKLOG);
        for (int n = 0; n < BACKLOG; n++) {
            rows.add(new Outbox.Row(
                    side.backlogTopic, "k" + (n % 100), "{\"n\":" + n + ",\"body\":\"" + body + "\"}", null));
        }
        markPhases(side);
        Instant committed;
        long insertNanos;
        try (Connection c = BenchmarkDatabase.connect(url)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("set local search_path to " + side.schema + ", public");
                s.execute("set local synchronous_commit = on"); // as OfferedLoad's writers
            }
            long start = System.nanoTime();
            Outbox.append(c, rows);
            c.commit();
            insertNanos = System.nanoTime() - start;
            committed = Instant.now();
        }
        if (!receipts.await(side.backlogTopic, before + BACKLOG, Duration.ofMinutes(5))) {
            side.relay.checkAlive();
            throw new IllegalStateException(side.relay.name() + ": the backlog did not arrive within 5 minutes");
        }
        double drainSeconds =
                Duration.between(committed, receipts.last(side.backlogTopic)).toNanos() / 1e9;
        side.measured.drain(BACKLOG / drainSeconds, BACKLOG / (insertNanos / 1e9));
        System.out.printf(
                Locale.ROOT,
                "| %s | insert %,d rows (100 keys, one transaction) %.0f ms = %,.0f rows/s | commit to last"
                        + " received %.2f s = %,.0f events/s |%n",
                side.relay.name(),
                BACKLOG,
                insertNanos / 1e6,
                BACKLOG / (insertNanos / 1e9),
                drainSeconds,
                BACKLOG / drainSeconds);
        printPhases(side);
    }

    /** For a dispatcher's round: remembers its phase timers, and the broker's counts if asked for. */
    private static void markPhases(Side side) throws Exception {
        if (side.phases != null) {
            side.phases.mark();
            if (broker != null) {
                broker.mark();
            }
        }
    }

    /** Prints what {@link #markPhases} remembered, as it is now. */
    private static void printPhases(Side side) throws Exception {
        if (side.phases != null) {
            System.out.println("  phases: " + String.join("; ", side.phases.sinceMark()));
            if (broker != null) {
                System.out.println("  " + broker.sinceMark());
            }
        }
    }

    private static String schema(DatabaseUrl url, String schema) throws Exception {
        new Migrations(url, schema, "bench").migrate();
        return schema;
    }
}
