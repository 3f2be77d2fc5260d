package io.ragline.benchmarks.relay;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Rows offered at a steady rate by {@value #WRITERS} JDBC writer threads, one autocommitted insert
 * per row (as an application's request would write it), open loop: each writer inserts on its own
 * schedule whether or not the relay keeps up. Keys cycle over 100 values; the payload carries the
 * insert moment, {@code clock_timestamp()} in microseconds, as {@code "t"}. Writers commit with
 * {@code synchronous_commit = on}, as applications do: the dev cluster runs with it off, and then
 * a commit's WAL waits for the WAL writer (up to {@code wal_writer_delay}, 200 ms) before logical
 * decoding may send it, a delay a Debezium relay would not see in production.
 */
public final class OfferedLoad {
    static final int WRITERS = 4;

    private OfferedLoad() {}

    /** What {@link #offer} did: rows inserted, and writers' lag past the schedule at the end. */
    public record Offered(int rows, double behindMillis) {}

    /** Offers {@code perSecond} rows to {@code schema.outbox} for topic {@code topic} for {@code seconds}. */
    public static Offered offer(
            Callable<Connection> connections, String schema, String topic, int perSecond, double seconds)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        try {
            List<Future<long[]>> writers = new ArrayList<>();
            long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(pool.submit(() -> write(connections, schema, topic, perSecond, seconds, writer, start)));
            }
            int rows = 0;
            double behind = 0;
            for (Future<long[]> f : writers) {
                long[] r = f.get();
                rows += (int) r[0];
                behind = Math.max(behind, r[1] / 1e6);
            }
            return new Offered(rows, behind);
        } finally {
            pool.shutdownNow();
        }
    }

    private static long[] write(
            Callable<Connection> connections,
            String schema,
            String topic,
            int perSecond,
            double seconds,
            int writer,
            long start)
            throws Exception {
        long interval = (long) (1e9 * WRITERS / perSecond);
        long end = start + (long) (seconds * 1e9);
        int n = 0;
        long lag = 0;
        try (Connection c = connections.call();
                java.sql.Statement session = c.createStatement();
                PreparedStatement insert = c.prepareStatement("insert into " + schema + ".outbox (topic, key, payload)"
                        + " values (?, ?, jsonb_build_object('n', ?::int, 't',"
                        + " (extract(epoch from clock_timestamp()) * 1000000)::bigint))")) {
            session.execute("set synchronous_commit = on"); // see the class comment
            while (true) {
                long due = start + writer * (interval / WRITERS) + n * interval;
                if (due >= end) {
                    break;
                }
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                lag = Math.max(0, System.nanoTime() - due);
                int seq = n * WRITERS + writer;
                insert.setString(1, topic);
                insert.setString(2, "k" + (seq % 100));
                insert.setInt(3, seq);
                insert.executeUpdate();
                n++;
            }
        }
        return new long[] {n, lag};
    }
}
