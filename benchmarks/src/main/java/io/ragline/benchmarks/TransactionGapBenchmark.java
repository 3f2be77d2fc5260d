package io.ragline.benchmarks;

import io.ragline.benchmarks.relay.BrokerVerifications;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.TestServices;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Issue 21: what a transaction begun right after the same producer's commit pays. {@code
 * commitTransaction()} returns once the coordinator has logged the commit; its markers are written
 * to the partitions after that. Until they are, the coordinator answers the next transaction's
 * verification (KIP-890: the partition's leader checks a transactional produce request's
 * partitions with the coordinator) with {@code CONCURRENT_TRANSACTIONS}, and the leader tries again
 * after {@code add.partitions.to.txn.retry.backoff.ms} (20 ms by default). One producer (Ragline's
 * settings from {@link KafkaClients}) runs transactions of one record to each of 6 partitions,
 * sends flushed, with a fixed gap after each commit; per gap: how long the sends took, and the
 * broker's own count of verifications and of partitions whose verification failed ({@link
 * BrokerVerifications}, so the broker must be a JVM on this machine: {@code -Drelay.brokerPid}).
 *
 * <p>On a cluster of several brokers each partition's leader verifies its own partitions, and two
 * leaders' verifications of one transaction at the same time meet the same wait: the coordinator
 * answers {@code CONCURRENT_TRANSACTIONS} while it still logs the other's partitions. The third
 * argument, {@code one-leader}, sends only to the partitions led by partition 0's leader, to tell
 * the two apart.
 *
 * <p>A fourth argument {@code nudge} sends, right after each commit and without waiting for it,
 * one {@code DescribeTransactions} for the producer's id, a request the coordinator's broker
 * handles: on a replicated cluster the coordinator's own write that completes a transaction wakes
 * the followers' fetches only when that broker next handles a request (docs/benchmarks.md, "The
 * producers' turns"), and this is such a request.
 *
 * <p>Arguments: {@code [transactions per gap (300)] [gaps in ms (0,1,2,3,5,8,0)] [all|one-leader
 * (all)] [nudge]}.
 *
 * <p>{@code java -Drelay.brokerPid=$(cut -d' ' -f1 .ragline/kafka/pid) -cp
 * benchmarks/target/classes:$(cat /tmp/bench.cp) io.ragline.benchmarks.TransactionGapBenchmark}
 */
public final class TransactionGapBenchmark {
    private TransactionGapBenchmark() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int[] gaps = Arrays.stream((args.length > 1 ? args[1] : "0,1,2,3,5,8,0").split(","))
                .mapToInt(Integer::parseInt)
                .toArray();
        boolean oneLeader = args.length > 2 && args[2].equals("one-leader");
        boolean nudge = args.length > 3 && args[3].equals("nudge");
        boolean settle = args.length > 3 && args[3].equals("settle");
        String bootstrap = TestServices.get().kafkaBootstrapServers();
        String topic = KafkaTopics.create("txn-gap", 6);
        int[] partitions = partitions(bootstrap, topic, oneLeader);
        System.out.printf(
                Locale.ROOT,
                "%d cores; Java %s; load average %s; each transaction sends to partitions %s of 6%n",
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"),
                Machine.loadAverage(),
                Arrays.toString(partitions));
        System.out.println(
                nudge
                        ? "each commit followed by a DescribeTransactions, not awaited"
                        : settle
                                ? "each commit followed by DescribeTransactions until the transaction is complete"
                                : "no nudge");
        System.out.println("| gap after each commit | transactions | verifications | partitions' verifications failed"
                + " | sends p50 ms | p90 ms | p99 ms | settle p50 ms | p99 ms | describes per commit |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        String transactionalId = "txn-gap-" + System.nanoTime();
        try (BrokerVerifications broker = BrokerVerifications.attach(System.getProperty("relay.brokerPid"));
                Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
                KafkaProducer<byte[], byte[]> p = KafkaClients.transactionalProducer(
                        bootstrap, KafkaSettings.defaults(), "txn-gap", transactionalId, Duration.ofSeconds(60))) {
            if (broker == null) {
                throw new IllegalArgumentException("needs -Drelay.brokerPid=<the broker JVM's pid>");
            }
            p.initTransactions();
            for (int i = 0; i < 50; i++) { // warm-up: metadata, connections, JIT
                transaction(p, topic, partitions);
            }
            for (int gap : gaps) {
                broker.mark();
                long[] sends = new long[n];
                long[] settles = new long[n];
                long describes = 0;
                for (int t = 0; t < n; t++) {
                    sends[t] = transaction(p, topic, partitions);
                    if (nudge) {
                        admin.describeTransactions(List.of(transactionalId));
                    }
                    if (settle) {
                        long begun = System.nanoTime();
                        TransactionState state;
                        do {
                            describes++;
                            state = admin.describeTransactions(List.of(transactionalId))
                                    .description(transactionalId)
                                    .get()
                                    .state();
                        } while (state == TransactionState.PREPARE_COMMIT);
                        settles[t] = System.nanoTime() - begun;
                    }
                    long until = System.nanoTime() + gap * 1_000_000L;
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait(); // a sleep of 1 ms may last several
                    }
                }
                Arrays.sort(sends);
                Arrays.sort(settles);
                long[] counts = broker.counts();
                System.out.printf(
                        Locale.ROOT,
                        "| %d ms | %d | %,d | %,d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n",
                        gap,
                        n,
                        counts[0],
                        counts[1],
                        sends[n / 2] / 1e6,
                        sends[n * 9 / 10] / 1e6,
                        sends[n * 99 / 100] / 1e6,
                        settles[n / 2] / 1e6,
                        settles[n * 99 / 100] / 1e6,
                        describes / (double) n);
            }
        }
        System.out.printf(Locale.ROOT, "load average at the end %s%n", Machine.loadAverage());
    }

    /** All 6 partitions, or those whose leader leads partition 0. */
    private static int[] partitions(String bootstrap, String topic, boolean oneLeader) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            TopicDescription d =
                    admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            int leader = d.partitions().get(0).leader().id();
            return d.partitions().stream()
                    .filter(info -> !oneLeader || info.leader().id() == leader)
                    .mapToInt(TopicPartitionInfo::partition)
                    .sorted()
                    .toArray();
        }
    }

    /** Begins a transaction, sends a record to each partition, flushes; returns the sends' nanoseconds. */
    private static long transaction(KafkaProducer<byte[], byte[]> p, String topic, int[] partitions) {
        p.beginTransaction();
        long start = System.nanoTime();
        for (int partition : partitions) {
            p.send(new ProducerRecord<>(topic, partition, null, new byte[100]));
        }
        p.flush();
        long sent = System.nanoTime() - start;
        p.commitTransaction();
        return sent;
    }
}
