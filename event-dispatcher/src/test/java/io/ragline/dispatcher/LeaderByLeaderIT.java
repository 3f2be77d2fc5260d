package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.core.WorkerRuntime;
import io.ragline.dispatcher.outbox.OutboxMetrics;
import io.ragline.dispatcher.outbox.OutboxPublisher;
import io.ragline.dispatcher.outbox.OutboxRow;
import io.ragline.testkit.KafkaCluster;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Under Kafka's transaction protocol 2 the relay sends a batch's rows to one partition leader at a
 * time, each leader's acknowledged before the next leader's are sent: two leaders adding their
 * partitions to one transaction at once make one of them wait out Kafka's retry backoff ({@code
 * LeaderGroups}, docs/architecture.md, section 10). On a cluster of three brokers of its own
 * (transaction protocol 2, as Kafka 4 formats a new cluster), with a topic of 6 partitions whose
 * leaders are spread over the three, the relay publishes rows of 30 keys inserted in bursts, so that
 * batches hold rows of every leader (after a row a drain for each producer's first send to the
 * topic, which goes whole: the relay looks a topic's leaders up only once its producer has them).
 * Within each transaction, two sends whose partitions (Kafka's
 * own partitioner's for their keys) have different leaders (as the cluster reports them) must have
 * a flush between them; every row must arrive, each key's in order.
 */
class LeaderByLeaderIT {
    /** A transaction's sends (keys) and flushes (null); {@code ready}: its producer had the topic's leaders. */
    record Txn(boolean measured, boolean ready, List<String> events) {}

    @RegisterExtension
    static final KafkaCluster kafka = new KafkaCluster();

    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final int BURSTS = 20;
    static final int ROWS_PER_BURST = 90;
    static final int KEYS = 30;

    WorkerRuntime runtime;

    @AfterEach
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void eachTransactionsRowsReachOneLeaderAtATime() throws Exception {
        String topic = "one-leader-" + System.nanoTime();
        Map<Integer, Integer> leaders = createTopic(topic);

        // Per producer, its open transaction's sends (the key) and flushes (null); each transaction
        // begun while measuring once committed. A producer is "ready" while a transaction of its with a
        // send to the topic committed less than 2 s before (since its initTransactions()): the relay
        // looks a topic's leaders up on a producer only within 4 s of a send to it acknowledged (its
        // metadata then has them), so only transactions begun ready are held to the rule.
        Map<String, Txn> open = new ConcurrentHashMap<>();
        Map<String, Long> sentToTopic = new ConcurrentHashMap<>();
        AtomicBoolean measuring = new AtomicBoolean();
        List<Txn> committed = new ArrayList<>();
        Map<String, String> env = new HashMap<>(db.env());
        env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        runtime = WiredDispatcher.start(
                env,
                3,
                (id, p) -> InterceptedProducer.of(p, (method, args) -> {
                    switch (method) {
                        case "initTransactions" -> sentToTopic.remove(id);
                        case "beginTransaction" -> {
                            Long at = sentToTopic.get(id);
                            boolean ready = at != null && System.nanoTime() - at < 2_000_000_000L;
                            open.put(id, new Txn(measuring.get(), ready, new ArrayList<>()));
                        }
                        case "send" -> {
                            ProducerRecord<?, ?> record = (ProducerRecord<?, ?>) args[0];
                            if (record.topic().equals(topic) && open.containsKey(id)) {
                                open.get(id).events().add(new String((byte[]) record.key(), StandardCharsets.UTF_8));
                            }
                        }
                        case "flush" -> {
                            if (open.containsKey(id)) {
                                open.get(id).events().add(null);
                            }
                        }
                        case "commitTransaction" -> {
                            Txn txn = open.remove(id);
                            if (txn != null && txn.events().stream().anyMatch(key -> key != null)) {
                                sentToTopic.put(id, System.nanoTime());
                            }
                            if (txn != null && txn.measured()) {
                                synchronized (committed) {
                                    committed.add(txn);
                                }
                            }
                        }
                        case "abortTransaction" -> open.remove(id);
                        default -> {}
                    }
                }));
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> OutboxRelayIT.isLeader(runtime));

        // A row a drain, each on the next producer: each has then had a send to the topic
        // acknowledged, so its metadata holds the topic's leaders (the relay never waits for them).
        // Bursts follow at once (the relay looks leaders up within seconds of the last acknowledgement).
        int warm = 6;
        try (Connection c = db.connect();
                PreparedStatement s =
                        c.prepareStatement("insert into outbox (topic, key, payload) values (?, 'warm', '{}')")) {
            for (int i = 0; i < warm; i++) {
                s.setString(1, topic);
                s.execute();
                Awaitility.await()
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
            }
        }
        measuring.set(true);
        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement(
                        "insert into outbox (topic, key, payload) select ?, 'k' || (g % ?), jsonb_build_object('seq', g)"
                                + " from generate_series(?, ?) g")) {
            for (int burst = 0; burst < BURSTS; burst++) {
                s.setString(1, topic);
                s.setInt(2, KEYS);
                s.setInt(3, burst * ROWS_PER_BURST);
                s.setInt(4, (burst + 1) * ROWS_PER_BURST - 1);
                s.execute();
                Thread.sleep(150); // a batch of its own, mostly
            }
        }
        int total = BURSTS * ROWS_PER_BURST;
        Awaitility.await() // every row published, and deleted
                .atMost(Duration.ofSeconds(60))
                .until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
        List<ConsumerRecord<String, String>> received =
                KafkaTopics.readAll(kafka.bootstrapServers(), topic, Duration.ofSeconds(30));

        assertThat(received).hasSize(warm + total);
        Map<String, Integer> last = new HashMap<>();
        for (ConsumerRecord<String, String> r : received) {
            if (r.key().equals("warm")) {
                continue;
            }
            int seq = Integer.parseInt(r.value().replaceAll("\\D", ""));
            Integer before = last.put(r.key(), seq);
            assertThat(before == null || before < seq)
                    .as("key %s: %d after %s", r.key(), seq, before)
                    .isTrue();
        }
        List<Txn> transactions;
        synchronized (committed) {
            transactions = new ArrayList<>(committed);
        }
        assertThat(transactions.stream()
                        .mapToLong(t ->
                                t.events().stream().filter(key -> key != null).count())
                        .sum())
                .as("rows sent in the transactions committed")
                .isEqualTo(total);
        int spanning = 0;
        for (Txn txn : transactions) {
            if (!txn.ready()) {
                continue; // the topic's leaders not yet (or no longer) known on its producer: sent whole
            }
            List<String> events = txn.events();
            Integer leader = null;
            boolean flushed = false;
            Set<Integer> seen = new HashSet<>();
            for (String key : events) {
                if (key == null) {
                    flushed = true;
                    continue;
                }
                int l = leaders.get(BuiltInPartitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), 6));
                if (leader != null && l != leader) {
                    assertThat(flushed)
                            .as(
                                    "a send to leader %d after sends to leader %d, with no flush between: %s",
                                    l, leader, events)
                            .isTrue();
                }
                seen.add(l);
                leader = l;
                flushed = false;
            }
            if (seen.size() > 1) {
                spanning++;
            }
        }
        assertThat(spanning)
                .as("transactions with rows of several leaders (else the test shows nothing)")
                .isGreaterThan(3);
    }

    /** Creates {@code topic} with 6 partitions on the cluster; its leaders by partition, more than one. */
    private static Map<Integer, Integer> createTopic(String topic) throws Exception {
        Map<Integer, Integer> leaders = new HashMap<>();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 6, (short) kafka.replicationFactor())))
                    .all()
                    .get();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (TopicPartitionInfo p : admin.describeTopics(List.of(topic))
                        .allTopicNames()
                        .get()
                        .get(topic)
                        .partitions()) {
                    if (p.leader() == null) {
                        return false;
                    }
                    leaders.put(p.partition(), p.leader().id());
                }
                return leaders.size() == 6;
            });
            assertThat(new HashSet<>(leaders.values()))
                    .as("the partitions' leaders")
                    .hasSizeGreaterThan(1);
        }
        return leaders;
    }

    /**
     * The fence under the sends leader by leader, one producer ({@code OutboxPublisher.publish}): a
     * frozen leader whose producer knows the topic's leaders, fenced by a new leader's
     * {@code initTransactions()}, sends a batch whose rows fall on two leaders. The fence its first
     * leader's sends meet must be thrown as a fence (so the dispatcher stands by rather than start
     * producers again on its own view of the lease), and {@code read_committed} consumers see none
     * of its rows. Mutation-checked: without the fence check after the groups' sends, publish()
     * returns a failed batch instead.
     */
    @Test
    void aFrozenLeadersBatchSentLeaderByLeaderIsFencedAndNeverVisible() throws Exception {
        String topic = "fence-by-leader-" + System.nanoTime();
        Map<Integer, Integer> leaders = createTopic(topic);
        String a = keyOn(leaders, leaders.get(0));
        String b = keyOn(
                leaders,
                leaders.values().stream()
                        .filter(l -> !l.equals(leaders.get(0)))
                        .findFirst()
                        .orElseThrow());
        String id = "fence-by-leader-" + UUID.randomUUID();
        try (OutboxPublisher frozen = publisher(id);
                OutboxPublisher next = publisher(id)) {
            // Two batches on the frozen leader: after the first its producer knows the topic's leaders.
            assertThat(frozen.publish(List.of(row(1, topic, a)), () -> true).committed())
                    .isTrue();
            assertThat(frozen.publish(List.of(row(2, topic, b)), () -> true).committed())
                    .isTrue();
            // Its lease ran out; the new leader publishes (its producers start first and fence).
            assertThat(next.publish(List.of(row(3, topic, a)), () -> true).committed())
                    .isTrue();

            assertThatThrownBy(() -> frozen.publish(List.of(row(4, topic, a), row(5, topic, b)), () -> true))
                    .isInstanceOf(OutboxPublisher.FencedException.class);
        }
        assertThat(KafkaTopics.readAll(kafka.bootstrapServers(), topic, Duration.ofSeconds(30)))
                .extracting(ConsumerRecord::value)
                .containsExactlyInAnyOrder("{\"n\":1}", "{\"n\":2}", "{\"n\":3}");
    }

    /** A key Kafka's partitioner puts on a partition of 6 that {@code leader} leads. */
    private static String keyOn(Map<Integer, Integer> leaders, int leader) {
        for (int i = 0; ; i++) {
            String key = "k" + i;
            if (leaders.get(BuiltInPartitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), 6)) == leader) {
                return key;
            }
        }
    }

    /** A publisher with one producer, leader by leader, on the cluster. */
    private static OutboxPublisher publisher(String transactionalId) {
        return new OutboxPublisher(
                id -> {
                    Properties p = new Properties();
                    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
                    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
                    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
                    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
                },
                transactionalId,
                1,
                "",
                new OutboxMetrics(new SimpleMeterRegistry()),
                true);
    }

    private static OutboxRow row(long id, String topic, String key) {
        return new OutboxRow(id, topic, key, "{\"n\":" + id + "}", Map.of(), Instant.now(), 0, System.nanoTime());
    }
}
