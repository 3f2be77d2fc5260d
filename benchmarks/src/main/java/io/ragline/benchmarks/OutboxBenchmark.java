package io.ragline.benchmarks;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.Migrations;
import io.ragline.core.outbox.Outbox;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The event-dispatcher: sustained outbox-to-Kafka events per second from a backlog, and the
 * latency from insert to Kafka's acknowledgement at 1,000 events/s offered (one insert per
 * transaction), with the NOTIFY doorbell and in poll-only mode. Latency is the dispatcher's own
 * {@code ragline_outbox_publish_latency} timer.
 *
 * <p>{@code ./mvnw -q -pl benchmarks exec:java -Dexec.mainClass=io.ragline.benchmarks.OutboxBenchmark}
 */
public final class OutboxBenchmark {
    private OutboxBenchmark() {}

    /** {@code backlog} rows on 1,000 keys, written through the one outbox API in one transaction. */
    private static void fillBacklog(DatabaseUrl url, String schema, String topic, int backlog) throws Exception {
        String body = "x".repeat(150);
        try (Connection c = BenchmarkDatabase.connect(url)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("set local search_path to " + schema + ", public");
            }
            List<Outbox.Row> rows = new ArrayList<>();
            for (int n = 1; n <= backlog; n++) {
                rows.add(new Outbox.Row(topic, "k" + (n % 1000), "{\"n\":" + n + ",\"body\":\"" + body + "\"}", null));
                if (rows.size() == 10_000) {
                    Outbox.append(c, rows);
                    rows.clear();
                }
            }
            Outbox.append(c, rows);
            c.commit();
        }
    }

    public static void main(String[] args) throws Exception {
        int backlog = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        DatabaseUrl url =
                DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
        System.out.printf(Locale.ROOT, "%d cores%n", Runtime.getRuntime().availableProcessors());

        for (int batch : new int[] {1000, 5000}) {
            String schema = schema(url);
            String topic = KafkaTopics.create("outbox-bench", 6);
            fillBacklog(url, schema, topic, backlog);
            long start = System.nanoTime();
            try (WorkerRuntime runtime = dispatcher(schema, Map.of("RAGLINE_OUTBOX_BATCH", String.valueOf(batch)))) {
                while (BenchmarkDatabase.count(url, "select count(*) from " + schema + ".outbox") > 0) {
                    Thread.sleep(50);
                }
            }
            double s = (System.nanoTime() - start) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "| backlog drain | batch %d | %,d rows | %.1f s | %,.0f events/s |%n",
                    batch,
                    backlog,
                    s,
                    backlog / s);
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
        }

        for (String mode : new String[] {"listen", "poll"}) {
            String schema = schema(url);
            String topic = KafkaTopics.create("outbox-latency", 6);
            try (WorkerRuntime runtime = dispatcher(schema, Map.of("RAGLINE_OUTBOX_MODE", mode));
                    Connection c = BenchmarkDatabase.connect(url);
                    PreparedStatement insert = c.prepareStatement("insert into " + schema
                            + ".outbox (topic, key, payload) values (?, ?, jsonb_build_object('n', ?::int))")) {
                Thread.sleep(2000); // leadership
                int offered = offer(insert, topic, 1000, seconds);
                while (BenchmarkDatabase.count(url, "select count(*) from " + schema + ".outbox") > 0) {
                    Thread.sleep(20);
                }
                Timer latency = runtime.registry()
                        .find("ragline.outbox.publish.latency")
                        .timer();
                double p50 = percentile(latency, 0.5);
                double p99 = percentile(latency, 0.99);
                System.out.printf(
                        Locale.ROOT,
                        "| latency at 1,000/s | %s | %,d events | p50 %.1f ms | p99 %.1f ms | max %.1f ms |%n",
                        mode,
                        offered,
                        p50,
                        p99,
                        latency.max(TimeUnit.MILLISECONDS));
            }
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
        }
    }

    /** Inserts one row per transaction at {@code perSecond} for {@code seconds}; returns the count. */
    private static int offer(PreparedStatement insert, String topic, int perSecond, int seconds) throws Exception {
        long interval = 1_000_000_000L / perSecond;
        long start = System.nanoTime();
        int n = 0;
        while (System.nanoTime() - start < seconds * 1_000_000_000L) {
            long due = start + n * interval;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            insert.setString(1, topic);
            insert.setString(2, "k" + (n % 100));
            insert.setInt(3, n);
            insert.execute();
            n++;
        }
        return n;
    }

    private static double percentile(Timer timer, double p) {
        for (ValueAtPercentile v : timer.takeSnapshot().percentileValues()) {
            if (v.percentile() == p) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        return Double.NaN;
    }

    private static WorkerRuntime dispatcher(String schema, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>();
        env.put("DATABASE_URL", TestServices.get().databaseUrl());
        env.put("KAFKA_BOOTSTRAP_SERVERS", TestServices.get().kafkaBootstrapServers());
        env.put("RAGLINE_DB_SCHEMA", schema);
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.putAll(extra);
        Env e = new Env(env);
        var wiring = EventDispatcher.wiring(e);
        WorkerRuntime runtime = WorkerRuntime.start("bench-dispatcher", 0, e);
        wiring.accept(runtime);
        return runtime;
    }

    private static String schema(DatabaseUrl url) throws Exception {
        String schema = "bench_" + Long.toString(System.nanoTime(), 36);
        new Migrations(url, schema, "bench").migrate();
        return schema;
    }
}
