package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.junit.jupiter.api.Test;

/**
 * How a batch's rows are grouped by their partitions' leader (transaction protocol 2). Pure logic:
 * the partitions and leaders are given; Kafka's own partitioner ({@link
 * BuiltInPartitioner#partitionForKey}) says where each key goes.
 */
class LeaderGroupsTest {
    private static final String PREFIX = "p.";
    private static final Node[] BROKERS = {new Node(1, "a", 1), new Node(2, "b", 2), new Node(3, "c", 3)};

    /** Topic {@code t}: 6 partitions, led by brokers 1, 2, 3, 1, 2, 3; {@code nobody}: leaders unknown. */
    private static List<PartitionInfo> partitions(String topic) {
        List<PartitionInfo> out = new ArrayList<>();
        if (topic.equals(PREFIX + "t")) {
            for (int p = 0; p < 6; p++) {
                out.add(new PartitionInfo(topic, p, BROKERS[p % 3], BROKERS, BROKERS));
            }
        } else if (topic.equals(PREFIX + "solo")) {
            for (int p = 2; p >= 0; p--) { // in any order
                out.add(new PartitionInfo(topic, p, BROKERS[1], BROKERS, BROKERS));
            }
        } else if (topic.equals(PREFIX + "nobody")) {
            for (int p = 0; p < 2; p++) {
                out.add(new PartitionInfo(topic, p, Node.noNode(), BROKERS, BROKERS));
            }
        }
        return out;
    }

    private final LeaderGroups leaders = new LeaderGroups(PREFIX, true);

    private static int leaderOf(OutboxRow row) {
        return BuiltInPartitioner.partitionForKey(row.key().getBytes(StandardCharsets.UTF_8), 6) % 3 + 1;
    }

    private static List<OutboxRow> rows(String topic, String... keys) {
        List<OutboxRow> out = new ArrayList<>();
        for (String key : keys) {
            out.add(new OutboxRow(out.size() + 1, topic, key, "{}", Map.of(), Instant.EPOCH, 0, 0));
        }
        return out;
    }

    @Test
    void thePartitionIsKafkasDefaultPartitionersForTheKey() {
        for (int i = 0; i < 1_000; i++) {
            String key = "key-" + i + "-é";
            assertThat(LeaderGroups.partition(key, 7))
                    .isEqualTo(BuiltInPartitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), 7));
        }
    }

    @Test
    void eachGroupIsOneLeadersRowsInTheBatchsOrder() {
        List<OutboxRow> batch = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            batch.add(new OutboxRow(i, "t", "k" + (i % 20), "{}", Map.of(), Instant.EPOCH, 0, 0));
        }

        List<List<OutboxRow>> groups = leaders.of(batch, LeaderGroupsTest::partitions);

        assertThat(groups).hasSize(3);
        assertThat(groups.get(0).get(0))
                .as("the first group is the first row's")
                .isSameAs(batch.get(0));
        List<OutboxRow> all = new ArrayList<>();
        for (List<OutboxRow> group : groups) {
            int leader = leaderOf(group.get(0));
            assertThat(group)
                    .as("every row of leader %d (so of each of its keys), in the batch's order", leader)
                    .containsExactlyElementsOf(batch.stream()
                            .filter(row -> leaderOf(row) == leader)
                            .toList());
            all.addAll(group);
        }
        assertThat(all).containsExactlyInAnyOrderElementsOf(batch);
    }

    @Test
    void rowsWithoutAKeyOrAKnownLeaderGoWithTheFirstGroupInTheirOrder() {
        List<OutboxRow> batch = new ArrayList<>();
        batch.addAll(rows("unknown-topic", "y1"));
        batch.addAll(rows("t", "a", "b", "c", "d", "e", "f", "g", "h"));
        batch.addAll(rows("t", (String) null));
        batch.addAll(rows("nobody", "x"));
        batch.addAll(rows("unknown-topic", "y2"));

        List<List<OutboxRow>> groups = leaders.of(batch, LeaderGroupsTest::partitions);

        assertThat(groups).hasSizeGreaterThan(1);
        List<OutboxRow> first = groups.get(0);
        assertThat(first.subList(first.size() - 4, first.size()))
                .extracting(OutboxRow::topic, OutboxRow::key)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("unknown-topic", "y1"),
                        org.assertj.core.groups.Tuple.tuple("t", null),
                        org.assertj.core.groups.Tuple.tuple("nobody", "x"),
                        org.assertj.core.groups.Tuple.tuple("unknown-topic", "y2"));
        assertThat(first.subList(0, first.size() - 4))
                .isNotEmpty()
                .allSatisfy(row -> assertThat(leaderOf(row)).isEqualTo(leaderOf(batch.get(1))));
    }

    @Test
    void rowsOfATopicLedByOneBrokerGoWithThatBrokersGroupWithOrWithoutAKey() {
        List<OutboxRow> batch = new ArrayList<>(rows("solo", "s1", null, "s2"));
        batch.addAll(rows("t", "a", "b", "c", "d", "e", "f", "g", "h"));

        List<List<OutboxRow>> groups = leaders.of(batch, LeaderGroupsTest::partitions);

        List<OutboxRow> brokerTwos = groups.stream()
                .filter(g -> g.get(0).topic().equals("solo"))
                .findFirst()
                .orElseThrow();
        assertThat(brokerTwos.subList(0, 3)).containsExactlyElementsOf(batch.subList(0, 3));
        assertThat(brokerTwos.subList(3, brokerTwos.size()))
                .allSatisfy(row -> assertThat(leaderOf(row)).isEqualTo(2));
        assertThat(groups.stream().mapToInt(List::size).sum()).isEqualTo(batch.size());
    }

    @Test
    void oneLeaderOrOffIsOneGroup() {
        List<OutboxRow> batch = rows("t", "a", "b", "c", "d", "e", "f", "g", "h");
        List<OutboxRow> oneLeader = batch.stream()
                .filter(row -> leaderOf(row) == leaderOf(batch.get(0)))
                .toList();

        assertThat(leaders.of(oneLeader, LeaderGroupsTest::partitions)).containsExactly(oneLeader);
        assertThat(new LeaderGroups(PREFIX, false).of(batch, LeaderGroupsTest::partitions))
                .containsExactly(batch);
    }
}
