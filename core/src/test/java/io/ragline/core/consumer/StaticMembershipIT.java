package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Static group membership ({@code RAGLINE_KAFKA_GROUP_INSTANCE_ID}) with real worker processes and
 * the real broker: a worker killed with SIGKILL and restarted under the same id takes its
 * partitions back without waiting for the session timeout (45 s), which a new dynamic member must;
 * a worker stopped with SIGTERM leaves the group, so another takes its partitions at once. The
 * times measured are printed (the assertions only say "before the session timeout").
 */
class StaticMembershipIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema();

    static final int RECORDS = 1000;
    static final Duration SESSION_TIMEOUT = Duration.ofSeconds(45);
    /** Inside the session timeout: what took longer may have waited for it. */
    static final Duration BEFORE_THE_SESSION_TIMEOUT = SESSION_TIMEOUT.minusSeconds(5);

    @BeforeAll
    static void table() throws SQLException {
        AppliedTable.create(db);
    }

    @Test
    void aWorkerKilledAndRestartedUnderItsInstanceIdResumesLongBeforeTheSessionTimeout() throws Exception {
        String topic = KafkaTopics.create("static-kill", 4);
        String prefix = "static-" + UUID.randomUUID();
        String group = prefix + "-fixture";
        KafkaTopics.produce(topic, RECORDS, i -> "value-" + i);

        JavaProcess worker = fixture(topic, prefix, "replica-a", 300);
        await().atMost(Duration.ofSeconds(90)).until(() -> rows(topic) > 0);
        // Two consumers (RAGLINE_CONSUMER_THREADS=2), each a static member with its own id.
        await().atMost(Duration.ofSeconds(30))
                .until(
                        () -> instanceIds(group),
                        ids -> ids.equals(Set.of("replica-a-fixture-fixture-0", "replica-a-fixture-fixture-1")));
        worker.kill();
        long killed = System.nanoTime();
        worker.waitFor(20);
        // The dead members stay in the group, holding their partitions, until the session times out.
        assertThat(instanceIds(group)).hasSize(2);
        long before = rows(topic);
        assertThat(before).isLessThan(RECORDS);

        long restarted = System.nanoTime();
        JavaProcess again = fixture(topic, prefix, "replica-a", 0);
        // A new dynamic member could take the partitions only once the dead members expired: a
        // session timeout after their last heartbeat (at most 3 s before the kill).
        Duration expiry = SESSION_TIMEOUT.minusSeconds(3).minusNanos(System.nanoTime() - killed);
        await().atMost(expiry)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> again.stdout().contains("fixture ready"));
        long subscribed = System.nanoTime();
        await().atMost(SESSION_TIMEOUT.minusSeconds(3).minusNanos(System.nanoTime() - killed))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> rows(topic) > before);
        long resumed = System.nanoTime();
        System.out.printf(
                "static membership: first record applied %d ms after the kill, %d ms after the restart (a new JVM),"
                        + " %d ms after the restarted worker subscribed%n",
                (resumed - killed) / 1_000_000, (resumed - restarted) / 1_000_000, (resumed - subscribed) / 1_000_000);

        await().atMost(Duration.ofSeconds(60)).until(() -> rows(topic) == RECORDS);
        again.terminate();
        assertThat(again.waitFor(20)).isZero();
        assertThat(rows(topic)).isEqualTo(RECORDS);
        assertThat(AppliedTable.distinct(db, topic)).isEqualTo(RECORDS);
    }

    @Test
    void aWorkerStoppedWithSigtermLeavesTheGroupSoAnotherTakesItsPartitionsAtOnce() throws Exception {
        String topic = KafkaTopics.create("static-term", 4);
        String prefix = "static-" + UUID.randomUUID();
        String group = prefix + "-fixture";
        KafkaTopics.produce(topic, RECORDS, i -> "value-" + i);

        JavaProcess a = fixture(topic, prefix, "replica-a", 300);
        JavaProcess b = fixture(topic, prefix, "replica-b", 300);
        // A stable group of the four (no rebalance under way, every member with partitions): a
        // LeaveGroup sent during a rebalance may find its member id already replaced.
        await().atMost(Duration.ofSeconds(90)).until(() -> stableMembers(group) == 4 && rows(topic) > 0);
        a.terminate();
        assertThat(a.waitFor(30)).isZero();

        long stopped = System.nanoTime();
        await().atMost(BEFORE_THE_SESSION_TIMEOUT)
                .pollInterval(Duration.ofMillis(100))
                .until(
                        () -> instanceIds(group),
                        ids -> ids.equals(Set.of("replica-b-fixture-fixture-0", "replica-b-fixture-fixture-1")));
        System.out.printf(
                "static membership: a SIGTERMed member left the group %d ms after it exited%n",
                (System.nanoTime() - stopped) / 1_000_000);
        await().atMost(BEFORE_THE_SESSION_TIMEOUT).until(() -> rows(topic) == RECORDS);
        b.terminate();
        assertThat(b.waitFor(30)).isZero();
        assertThat(AppliedTable.distinct(db, topic)).isEqualTo(RECORDS);
    }

    private static JavaProcess fixture(String topic, String prefix, String instanceId, long sleepMillis)
            throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("FIXTURE_TOPIC", topic);
        env.put("FIXTURE_SLEEP_MS", String.valueOf(sleepMillis));
        env.put("RAGLINE_GROUP_PREFIX", prefix);
        env.put("RAGLINE_CONSUMER_THREADS", "2");
        env.put("RAGLINE_MAX_POLL_RECORDS", "10");
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_KAFKA_GROUP_INSTANCE_ID", instanceId);
        env.put("RAGLINE_KAFKA_SESSION_TIMEOUT_MS", String.valueOf(SESSION_TIMEOUT.toMillis()));
        return JavaProcess.start(List.of(), ConsumerFixtureMain.class.getName(), env);
    }

    /** The group.instance.id of every member of {@code group} the coordinator holds now. */
    private static Set<String> instanceIds(String group) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()))) {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group))
                    .all()
                    .get(10, TimeUnit.SECONDS)
                    .get(group);
            return d.members().stream()
                    .map(MemberDescription::groupInstanceId)
                    .map(id -> id.orElse("(dynamic)"))
                    .collect(Collectors.toSet());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return Set.of(); // no member has joined yet
            }
            throw e;
        }
    }

    /** Members of {@code group} when it is stable and each holds partitions, else 0. */
    private static int stableMembers(String group) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()))) {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group))
                    .all()
                    .get(10, TimeUnit.SECONDS)
                    .get(group);
            boolean settled = d.groupState() == GroupState.STABLE
                    && d.members().stream()
                            .allMatch(m -> !m.assignment().topicPartitions().isEmpty());
            return settled ? d.members().size() : 0;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return 0;
            }
            throw e;
        }
    }

    private static long rows(String topic) throws SQLException {
        return AppliedTable.rows(db, topic);
    }
}
