package io.ragline.benchmarks.relay;

import io.ragline.benchmarks.Latencies;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The independent consumer: one {@code read_committed} {@link KafkaConsumer} with Kafka's default
 * fetch settings, assigned every partition of the measured topics, that stamps each message's
 * receipt ({@link Instant#now()}) on its own thread. A message's latency is receipt minus the
 * insert moment the writer put into its payload ({@code "t"}: {@code clock_timestamp()} in
 * microseconds since the epoch, on the same machine's clock).
 */
public final class Receipts implements AutoCloseable {
    /** {@code "t": 1733400000123456}, also inside a JSON string Debezium's router may quote. */
    private static final Pattern STAMP = Pattern.compile("\\bt\\\\?\"\\s*:\\s*(\\d+)");

    /** The part after the send of a message whose timestamp is not its producer's {@code send()}. */
    public static final long UNKNOWN = Long.MIN_VALUE;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<String, Topic> topics = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * Per topic: the latency of every stamped message in microseconds, the part of it after the
     * relay's send (receipt minus the record's {@code CreateTime}, which the producer stamps at
     * {@code send()}), and when the last came.
     */
    private static final class Topic {
        final List<Long> micros = new ArrayList<>();
        final List<Long> afterSendMicros = new ArrayList<>();
        final List<Long> insertedMicros = new ArrayList<>();
        long received;
        Instant last = Instant.EPOCH;
    }

    public Receipts(String bootstrap, Collection<String> names) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "relay-latency-receipts");
        consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (String name : names) {
            topics.put(name, new Topic());
            for (PartitionInfo info : consumer.partitionsFor(name, Duration.ofSeconds(30))) {
                partitions.add(new TopicPartition(name, info.partition()));
            }
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        thread = new Thread(this::poll, "relay-latency-receipts");
        thread.start();
    }

    private void poll() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    Instant now = Instant.now();
                    long nowMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
                    Topic t = topics.get(r.topic());
                    Matcher m = STAMP.matcher(r.value() == null ? "" : new String(r.value(), StandardCharsets.UTF_8));
                    synchronized (t) {
                        t.received++;
                        t.last = now;
                        if (m.find()) {
                            long inserted = Long.parseLong(m.group(1));
                            t.micros.add(nowMicros - inserted);
                            t.insertedMicros.add(inserted);
                            // CreateTime is the producer's send(); any other stamp cannot split the latency
                            t.afterSendMicros.add(
                                    r.timestampType() == TimestampType.CREATE_TIME && r.timestamp() >= 0
                                            ? nowMicros - r.timestamp() * 1_000L
                                            : UNKNOWN);
                        }
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** Messages received on {@code topic} so far. */
    public long received(String topic) {
        Topic t = topics.get(topic);
        synchronized (t) {
            return t.received;
        }
    }

    /** When the last message of {@code topic} arrived. */
    public Instant last(String topic) {
        Topic t = topics.get(topic);
        synchronized (t) {
            return t.last;
        }
    }

    /** The latencies (nanoseconds) of the stamped messages of {@code topic} since the last call. */
    public long[] drainLatencies(String topic) {
        return drainSamples(topic).latencies();
    }

    /**
     * The stamped messages of {@code topic} since the last call: each one's latency and the part of
     * it after the relay's send, in nanoseconds, in the same order.
     */
    public Samples drainSamples(String topic) {
        Topic t = topics.get(topic);
        synchronized (t) {
            Samples out = new Samples(
                    t.micros.stream().mapToLong(us -> us * 1_000L).toArray(),
                    t.afterSendMicros.stream()
                            .mapToLong(us -> us == UNKNOWN ? UNKNOWN : us * 1_000L)
                            .toArray(),
                    t.insertedMicros.stream().mapToLong(us -> us).toArray());
            t.micros.clear();
            t.afterSendMicros.clear();
            t.insertedMicros.clear();
            return out;
        }
    }

    /**
     * Latencies (insert to visible) and their parts after the send (ns), and the inserts' moments
     * (µs since the epoch), index by index. The send is stamped in milliseconds by the producer's
     * clock, so a part is good to about a millisecond; a message without that stamp (a topic that
     * keeps {@code LogAppendTime}) has {@link Receipts#UNKNOWN} after the send and is left out of
     * the split.
     */
    public record Samples(long[] latencies, long[] afterSend, long[] insertedMicros) {
        /**
         * The indexes of the messages whose latency is at or above the {@code q} quantile (the
         * nearest rank, as {@link Latencies#percentileMillis} prints it), slowest last.
         */
        public int[] atOrAbove(double q) {
            int n = latencies.length;
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, Comparator.comparingLong(i -> latencies[i]));
            int from = n == 0 ? 0 : Latencies.nearestRankIndex(n, q);
            int[] out = new int[n - from];
            for (int k = from; k < n; k++) {
                out[k - from] = order[k];
            }
            return out;
        }

        /**
         * For the messages whose latency is at or above the {@code q} quantile: the median of their
         * part before the send (insert to the relay's {@code send()}: waiting for a claim, the
         * claim) and of their part after it (the transaction's acknowledgements, commit, markers
         * and the consumer's fetch), in ms.
         */
        public double[] medianSplitAtOrAbove(double q) {
            int[] rows = Arrays.stream(atOrAbove(q))
                    .filter(i -> afterSend[i] != UNKNOWN)
                    .toArray();
            if (rows.length == 0) {
                return new double[] {Double.NaN, Double.NaN};
            }
            long[] before = new long[rows.length];
            long[] after = new long[rows.length];
            for (int k = 0; k < rows.length; k++) {
                before[k] = latencies[rows[k]] - afterSend[rows[k]];
                after[k] = afterSend[rows[k]];
            }
            Arrays.sort(before);
            Arrays.sort(after);
            return new double[] {before[before.length / 2] / 1e6, after[after.length / 2] / 1e6};
        }

        /**
         * Writes the messages at or above the {@code q} quantile to {@code file}, one a line in the
         * order they were inserted: the insert (UTC), the parts before and after the send (NaN
         * when unknown) and the latency, in ms.
         */
        public void writeAtOrAbove(double q, Path file) throws IOException {
            Integer[] byInsert = Arrays.stream(atOrAbove(q)).boxed().toArray(Integer[]::new);
            Arrays.sort(byInsert, Comparator.comparingLong(i -> insertedMicros[i]));
            StringBuilder out = new StringBuilder("inserted\tbefore_send_ms\tafter_send_ms\tlatency_ms\n");
            for (int i : byInsert) {
                long us = insertedMicros[i];
                boolean split = afterSend[i] != UNKNOWN;
                out.append(Instant.ofEpochSecond(us / 1_000_000, (us % 1_000_000) * 1_000))
                        .append(String.format(
                                Locale.ROOT,
                                "\t%.1f\t%.1f\t%.1f%n",
                                split ? (latencies[i] - afterSend[i]) / 1e6 : Double.NaN,
                                split ? afterSend[i] / 1e6 : Double.NaN,
                                latencies[i] / 1e6));
            }
            Files.writeString(file, out);
        }
    }

    /** Waits until {@code topic} has {@code count} messages; false if {@code timeout} passed first. */
    public boolean await(String topic, long count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (received(topic) < count) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(10_000);
    }
}
