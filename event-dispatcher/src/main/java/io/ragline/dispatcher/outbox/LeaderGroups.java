package io.ragline.dispatcher.outbox;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.utils.Utils;

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
 * against 7-8 ms for one leader's (docs/benchmarks.md, "Leader by leader"). Under protocol 1 the
 * producer adds all of a transaction's partitions in one request of its own, and on a single broker
 * every partition has the same leader: one group, nothing changes.
 *
 * <p>A row's partition is Kafka's default partitioner's for a keyed record (murmur2 of the key's
 * UTF-8 bytes; the relay's producers may not be given another partitioner); its leader is what the
 * producer's metadata says now, looked up only for topics whose metadata the producer has (it
 * never waits for a fetch). All of a key's rows go to one partition, so to one group, in the
 * batch's order: the per-key order is the batch's. Rows without a key, or of a topic whose leaders
 * are not known, go with the first group: a leader that moved since, or a keyless row, costs at
 * most that wait, never order or loss.
 */
final class LeaderGroups {
    private final String topicPrefix;
    private final boolean enabled;

    /** {@code enabled} false keeps every batch one group (transaction protocol 1). */
    LeaderGroups(String topicPrefix, boolean enabled) {
        this.topicPrefix = topicPrefix;
        this.enabled = enabled;
    }

    boolean enabled() {
        return enabled;
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
        Map<String, List<PartitionInfo>> known = new HashMap<>();
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

    /** The id of the broker leading {@code row}'s partition, or -1 when not known. */
    private int leaderOf(
            OutboxRow row, Map<String, List<PartitionInfo>> known, Function<String, List<PartitionInfo>> partitions) {
        if (row.key() == null) {
            return -1;
        }
        List<PartitionInfo> infos = known.computeIfAbsent(topicPrefix + row.topic(), topic -> {
            List<PartitionInfo> found = partitions.apply(topic);
            return found == null ? List.of() : found; // remembered either way: one answer a topic a batch
        });
        if (infos.isEmpty()) {
            return -1;
        }
        int partition = partition(row.key(), infos.size());
        for (PartitionInfo info : infos) {
            if (info.partition() == partition) {
                return info.leader() == null || info.leader().isEmpty()
                        ? -1
                        : info.leader().id();
            }
        }
        return -1;
    }

    /** Kafka's default partitioner for a keyed record of {@code key} (UTF-8, as the relay sends it). */
    static int partition(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }
}
