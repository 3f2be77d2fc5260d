package io.ragline.console.system;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * Consumer lag per group and partition, from Kafka: the groups named {@code <RAGLINE_GROUP_PREFIX>-*}
 * (Ragline's consumers of this deployment), each partition's committed offset against its last
 * committed record's end ({@code read_committed}, as Ragline's consumers read). Ragline commits an
 * offset to Kafka only after Postgres committed what the record changed, so the lag counts records
 * not yet applied (or applied a moment before the commit reaches Kafka).
 */
public final class ConsumerLag {
    /** One partition of one group: {@code lag} = {@code end} - {@code committed}, never below 0. */
    public record Lag(String group, String topic, int partition, long committed, long end, long lag) {}

    private final Admin admin;
    private final String groupPrefix;
    private final long timeoutMillis;

    /**
     * @param admin the console's admin client (it stays the caller's to close)
     * @param groupPrefix {@code RAGLINE_GROUP_PREFIX}: groups named {@code <prefix>-...} are listed
     * @param timeoutMillis how long Kafka may take to answer each of the three questions
     */
    public ConsumerLag(Admin admin, String groupPrefix, long timeoutMillis) {
        this.admin = admin;
        this.groupPrefix = groupPrefix;
        this.timeoutMillis = timeoutMillis;
    }

    /** Every partition with a committed offset of every group of this deployment, by group, topic, partition. */
    public List<Lag> read() throws InterruptedException, ExecutionException, TimeoutException {
        List<String> groups = new ArrayList<>();
        for (ConsumerGroupListing g : admin.listConsumerGroups().all().get(timeoutMillis, TimeUnit.MILLISECONDS)) {
            if (g.groupId().startsWith(groupPrefix + "-")) {
                groups.add(g.groupId());
            }
        }
        Map<String, Map<TopicPartition, OffsetAndMetadata>> committed = new HashMap<>();
        Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
        for (String group : groups) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata()
                    .get(timeoutMillis, TimeUnit.MILLISECONDS);
            Map<TopicPartition, OffsetAndMetadata> known = new HashMap<>();
            offsets.forEach((tp, o) -> {
                if (o != null) {
                    known.put(tp, o);
                    ends.put(tp, OffsetSpec.latest());
                }
            });
            committed.put(group, known);
        }
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> end = ends.isEmpty()
                ? Map.of()
                : admin.listOffsets(ends, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                        .all()
                        .get(timeoutMillis, TimeUnit.MILLISECONDS);
        List<Lag> lags = new ArrayList<>();
        committed.forEach((group, offsets) -> offsets.forEach((tp, o) -> {
            long e = end.containsKey(tp) ? end.get(tp).offset() : o.offset();
            lags.add(new Lag(group, tp.topic(), tp.partition(), o.offset(), e, Math.max(0, e - o.offset())));
        }));
        lags.sort(Comparator.comparing(Lag::group).thenComparing(Lag::topic).thenComparingInt(Lag::partition));
        return lags;
    }
}
