package io.ragline.dispatcher.outbox;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A batch's rows grouped by the broker that leads their partitions, so that under Kafka's
 * transaction protocol 2 (KIP-890, {@code transaction.version=2}) a transaction's sends reach one
 * leader at a time ({@link OutboxSends}). Under that protocol each leader adds the partitions a
 * transaction writes to itself, asking the coordinator when the transaction's first records reach
 * it, and the coordinator logs one addition at a time: while it logs one leader's (a write
 * replicated to its followers), it answers every other leader of the same transaction {@code
 * CONCURRENT_TRANSACTIONS}, and that leader tries again only after {@code
 * add.partitions.to.txn.retry.backoff.ms} (20 ms by default). A transaction writing to the
 * partitions of three leaders at once waited 50-75 ms in its sends on the three-broker dev cluster,
 * against 6-8 ms for one leader's (docs/benchmarks.md, "Leader by leader"). Under protocol 1 the
 * producer adds all of a transaction's partitions in one request of its own, and on a single broker
 * every partition has the same leader: one group, nothing changes.
 *
 * <p>A row's partition is Kafka's default partitioner's for a keyed record (murmur2 of the key's
 * UTF-8 bytes; the relay's producers may not be given another partitioner); its leader is what the
 * producer's metadata says now, looked up only for topics whose metadata the producer has (it
 * never waits for a fetch). All of a key's rows go to one partition, so to one group, in the
 * batch's order: the per-key order is the batch's. A topic whose partitions one broker leads (a
 * single broker) needs no key hashed: its rows, with or without a key, are that broker's. Rows
 * without a key of other topics, and rows of topics whose leaders are not known, go with the first
 * group: a leader that moved since, or a keyless row, costs at most that wait, never order or loss.
 */
final class LeaderGroups {
    private static final Logger log = LoggerFactory.getLogger(LeaderGroups.class);

    /**
     * How long after a send to a topic was acknowledged its partitions are looked up: less than
     * the least {@code metadata.max.idle.ms} Kafka allows (5 s), so the producer still has the
     * topic's metadata whatever the operator set.
     */
    private static final long METADATA_KEPT_NANOS = TimeUnit.SECONDS.toNanos(4);

    private final String topicPrefix;
    private final boolean enabled;

    /**
     * Per producer slot, the Kafka topics its producer had sends acknowledged to, and when ({@link
     * System#nanoTime}): only their partitions are looked up, since the producer then has their
     * metadata and the look-up cannot wait for it ({@code max.block.ms}). Written by the relay's
     * thread after a batch's sends were acknowledged, cleared when a slot's producer is discarded.
     */
    private final List<Map<String, Long>> acked = new ArrayList<>();

    /** {@code enabled} false keeps every batch one group (transaction protocol 1). */
    LeaderGroups(String topicPrefix, boolean enabled) {
        this.topicPrefix = topicPrefix;
        this.enabled = enabled;
        for (int slot = 0; slot < OutboxProducers.FAMILY; slot++) {
            acked.add(new ConcurrentHashMap<>());
        }
    }

    boolean enabled() {
        return enabled;
    }

    /**
     * {@code rows} to send on {@code p}, producer {@code slot}, by leader: the leaders of the topics
     * it had sends acknowledged to lately, from its metadata; the other topics' rows join the first group.
     */
    List<List<OutboxRow>> of(int slot, Producer<byte[], byte[]> p, List<OutboxRow> rows) {
        if (!enabled) {
            return List.of(rows);
        }
        Map<String, Long> topics = acked.get(slot);
        return of(rows, topic -> {
            Long at = topics.get(topic);
            if (at == null || System.nanoTime() - at > METADATA_KEPT_NANOS) {
                return List.of(); // its metadata may have to be fetched: never wait for it here
            }
            try {
                return p.partitionsFor(topic);
            } catch (RuntimeException e) {
                log.debug("no partitions of {} known: {}", topic, e.toString());
                return List.of();
            }
        });
    }

    /** Producer {@code slot}'s sends of {@code rows} were acknowledged: their topics' metadata is cached. */
    void acknowledged(int slot, List<OutboxRow> rows) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        Map<String, Long> topics = acked.get(slot);
        String last = null;
        for (OutboxRow row : rows) {
            if (!row.topic().equals(last)) { // rows of a topic mostly come together
                last = row.topic();
                topics.put(topicPrefix + last, now);
            }
        }
    }

    /** Producer {@code slot} was discarded: its successor's metadata starts empty. */
    void forget(int slot) {
        acked.get(slot).clear();
    }

    /** Every producer was discarded. */
    void forgetAll() {
        acked.forEach(Map::clear);
    }

    /**
     * {@code rows} by leader, the groups in the order of their first row, each in the batch's order,
     * the first followed by the rows of no known leader in theirs; {@code partitions} gives a Kafka
     * topic's partitions with their leaders (empty when not known), and must not wait.
     */
    List<List<OutboxRow>> of(List<OutboxRow> rows, Function<String, List<PartitionInfo>> partitions) {
        if (!enabled || rows.size() < 2) {
            return List.of(rows);
        }
        Map<String, Leaders> known = new HashMap<>();
        Map<Integer, List<OutboxRow>> groups = new LinkedHashMap<>();
        List<OutboxRow> unknown = new ArrayList<>();
        for (OutboxRow row : rows) {
            int leader = leaderOf(row, known, partitions);
            if (leader < 0) {
                unknown.add(row);
            } else {
                groups.computeIfAbsent(leader, l -> new ArrayList<>()).add(row);
            }
        }
        if (groups.size() <= 1) {
            return List.of(rows);
        }
        List<List<OutboxRow>> out = new ArrayList<>(groups.values());
        out.get(0).addAll(unknown); // other partitions than the group's: they may meet the wait
        return out;
    }

    /** A topic's partitions' leaders by partition (-1: not known), and {@code sole}, their one leader if all have the same (else -1). */
    private record Leaders(int[] byPartition, int sole) {
        static final Leaders UNKNOWN = new Leaders(new int[0], -1);

        static Leaders of(List<PartitionInfo> infos) {
            if (infos == null || infos.isEmpty()) {
                return UNKNOWN;
            }
            int[] by = new int[infos.size()];
            java.util.Arrays.fill(by, -1);
            for (PartitionInfo info : infos) {
                if (info.partition() >= 0
                        && info.partition() < by.length
                        && info.leader() != null
                        && !info.leader().isEmpty()) {
                    by[info.partition()] = info.leader().id();
                }
            }
            int sole = by[0];
            for (int leader : by) {
                if (leader != sole) {
                    sole = -1;
                }
            }
            return new Leaders(by, sole);
        }
    }

    /**
     * The id of the broker leading {@code row}'s partition, or -1 when not known. A topic whose
     * partitions all have one leader (a single broker) needs no key hashed, and then a row without
     * a key has a known leader too.
     */
    private int leaderOf(OutboxRow row, Map<String, Leaders> known, Function<String, List<PartitionInfo>> partitions) {
        Leaders leaders = known.computeIfAbsent( // one answer a topic a batch
                topicPrefix + row.topic(), topic -> Leaders.of(partitions.apply(topic)));
        if (leaders.sole() >= 0) {
            return leaders.sole();
        }
        if (row.key() == null || leaders.byPartition().length == 0) {
            return -1;
        }
        return leaders.byPartition()[partition(row.key(), leaders.byPartition().length)];
    }

    /** Kafka's default partitioner for a keyed record of {@code key} (UTF-8, as the relay sends it). */
    static int partition(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }
}
