package io.ragline.benchmarks;

import io.ragline.benchmarks.relay.Receipts;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Issue 21, item 1: what the Kafka transaction itself costs, apart from Postgres, the claim and the
 * relay. The same small batches (Ragline's producer settings from {@link KafkaClients}: idempotent,
 * {@code acks=all}, lz4, one request in flight) are published two ways, interleaved round by round
 * on topics of 6 partitions: in a transaction ({@code beginTransaction}, sends, {@code
 * commitTransaction}, as the event-dispatcher does) and without one (sends, then every
 * acknowledgement awaited, as Debezium's Kafka sink does). An independent {@code read_committed}
 * consumer ({@link Receipts}) stamps each record's receipt: the figure is batch start to visible to
 * that consumer, with the producer's own call time (commit returned, or last acknowledgement) beside
 * it.
 *
 * <p>Arguments: {@code [rounds (4)] [batches a round (300)] [records a batch (16)] [pause between
 * batches, ms (10)] [busy threads (0)]}. Busy threads spin in this JVM for the whole run, to see the
 * two ways on cores that are not free (the relay benchmark's writers, Postgres, both relays and the
 * broker share two cores).
 *
 * <p>{@code ./mvnw -q -pl benchmarks exec:java
 * -Dexec.mainClass=io.ragline.benchmarks.KafkaTransactionBenchmark -Dexec.args="4 300 16 10 0"}
 */
public final class KafkaTransactionBenchmark {
    private static final String[] MODES = {"transaction", "acks only"};

    private KafkaTransactionBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int batches = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        int perBatch = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        long pauseMillis = args.length > 3 ? Long.parseLong(args[3]) : 10;
        int busy = args.length > 4 ? Integer.parseInt(args[4]) : 0;
        String bootstrap = TestServices.get().kafkaBootstrapServers();
        System.out.printf(
                Locale.ROOT,
                "load average %s; %d rounds of %d batches of %d records, %d ms apart, %d busy threads%n",
                Machine.loadAverage(),
                rounds,
                batches,
                perBatch,
                pauseMillis,
                busy);
        List<Thread> spinners = new ArrayList<>();
        for (int i = 0; i < busy; i++) {
            Thread t = new Thread(KafkaTransactionBenchmark::spin, "busy-" + i);
            t.setDaemon(true);
            t.start();
            spinners.add(t);
        }
        String[][] topics = new String[rounds + 1][MODES.length];
        List<String> all = new ArrayList<>();
        for (int r = 0; r <= rounds; r++) {
            for (int m = 0; m < MODES.length; m++) {
                topics[r][m] = KafkaTopics.create("txn-cost", 6);
                all.add(topics[r][m]);
            }
        }
        KafkaSettings settings = KafkaSettings.defaults();
        double[][] visibleP50 = new double[MODES.length][rounds];
        double[][] visibleP99 = new double[MODES.length][rounds];
        System.out.println("| round | way | batches | call p50 ms | call p99 ms | visible p50 ms | visible p90 ms"
                + " | visible p99 ms | visible max ms |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        try (Receipts receipts = new Receipts(bootstrap, all);
                KafkaProducer<byte[], byte[]> transactional = KafkaClients.transactionalProducer(
                        bootstrap, settings, "txn-cost-t", "txn-cost-" + System.nanoTime(), Duration.ofSeconds(60));
                KafkaProducer<byte[], byte[]> plain = KafkaClients.producer(bootstrap, settings, "txn-cost-p")) {
            transactional.initTransactions();
            // round 0 warms both producers, the JIT and the consumer's fetch sessions; not counted
            for (int r = 0; r <= rounds; r++) {
                for (int i = 0; i < MODES.length; i++) {
                    int m = (r % 2 == 0) ? i : MODES.length - 1 - i;
                    String topic = topics[r][m];
                    long[] calls = new long[r == 0 ? 50 : batches];
                    for (int b = 0; b < calls.length; b++) {
                        calls[b] = m == 0
                                ? inTransaction(transactional, topic, perBatch, b)
                                : acksOnly(plain, topic, perBatch, b);
                        Thread.sleep(pauseMillis);
                    }
                    long expected = (long) calls.length * perBatch;
                    if (!receipts.await(topic, expected, Duration.ofMinutes(2))) {
                        throw new IllegalStateException(MODES[m] + ": " + receipts.received(topic) + " of " + expected
                                + " records visible after 2 minutes");
                    }
                    long[] visible = receipts.drainLatencies(topic);
                    if (r == 0) {
                        continue;
                    }
                    visibleP50[m][r - 1] = Latencies.percentileMillis(visible, 0.50);
                    visibleP99[m][r - 1] = Latencies.percentileMillis(visible, 0.99);
                    System.out.printf(
                            Locale.ROOT,
                            "| %d | %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n",
                            r,
                            MODES[m],
                            calls.length,
                            Latencies.percentileMillis(calls, 0.50),
                            Latencies.percentileMillis(calls, 0.99),
                            visibleP50[m][r - 1],
                            Latencies.percentileMillis(visible, 0.90),
                            visibleP99[m][r - 1],
                            Latencies.percentileMillis(visible, 1.0));
                }
            }
        }
        spinners.forEach(Thread::interrupt);
        System.out.println();
        System.out.println("| visible to read_committed | transaction / acks only, median of rounds (min-max) |");
        System.out.println("|---|---|");
        System.out.println("| p50 | " + ratios(visibleP50) + " |");
        System.out.println("| p99 | " + ratios(visibleP99) + " |");
        System.out.printf(Locale.ROOT, "load average at the end %s%n", Machine.loadAverage());
    }

    /** One batch in a transaction; returns the nanoseconds from begin until the commit returned. */
    private static long inTransaction(KafkaProducer<byte[], byte[]> p, String topic, int records, int batch) {
        long start = System.nanoTime();
        byte[] value = stamped(batch);
        p.beginTransaction();
        for (int k = 0; k < records; k++) {
            p.send(new ProducerRecord<>(topic, key(batch, k, records), value));
        }
        p.commitTransaction();
        return System.nanoTime() - start;
    }

    /** One batch without a transaction; returns the nanoseconds until every send was acknowledged. */
    private static long acksOnly(KafkaProducer<byte[], byte[]> p, String topic, int records, int batch)
            throws Exception {
        long start = System.nanoTime();
        byte[] value = stamped(batch);
        List<Future<?>> sent = new ArrayList<>(records);
        for (int k = 0; k < records; k++) {
            sent.add(p.send(new ProducerRecord<>(topic, key(batch, k, records), value)));
        }
        p.flush();
        for (Future<?> f : sent) {
            f.get();
        }
        return System.nanoTime() - start;
    }

    /** The batch's start in microseconds since the epoch, where {@link Receipts} reads it. */
    private static byte[] stamped(int batch) {
        Instant now = Instant.now();
        long micros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
        return ("{\"t\":" + micros + ",\"batch\":" + batch + ",\"pad\":\"" + "x".repeat(150) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] key(int batch, int k, int records) {
        return ("k" + ((batch * records + k) % 100)).getBytes(StandardCharsets.UTF_8);
    }

    /** Per round, the first way's figure over the second's: their median and range. */
    private static String ratios(double[][] byMode) {
        int n = byMode[0].length;
        double[] r = new double[n];
        for (int i = 0; i < n; i++) {
            r[i] = byMode[0][i] / byMode[1][i];
        }
        double[] sorted = r.clone();
        java.util.Arrays.sort(sorted);
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return String.format(Locale.ROOT, "%.2f (%.2f-%.2f)", median, sorted[0], sorted[n - 1]);
    }

    private static void spin() {
        long x = 0;
        while (!Thread.currentThread().isInterrupted()) {
            x += System.nanoTime() % 7;
        }
        if (x == 42) {
            System.out.print("");
        }
    }
}
