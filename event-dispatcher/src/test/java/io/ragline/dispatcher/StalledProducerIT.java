package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.dispatcher.outbox.OutboxPublisher;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.ProxiedKafka;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two producers ({@code RAGLINE_OUTBOX_PRODUCERS=2}) when the connection of one of them to Kafka
 * goes silent: the relay's second producer ({@code transactional.id} with {@code -1}) reaches a
 * broker of this class's own through a {@link io.ragline.testkit.TcpProxy} ({@link ProxiedKafka}),
 * everything else (the first producer, the test's consumers) reaches it directly, and the proxy
 * swallows that producer's bytes at an exact point of the relay's work. Three batches make the
 * overlap: A on the first producer, B (inserted while A is sent) on the second, C (inserted while
 * B is sent) on the first again; each is three rows, one per key, {@code seq} 0, 1 and 2.
 */
class StalledProducerIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @RegisterExtension
    static final ProxiedKafka kafka = new ProxiedKafka();

    /** The transaction timeout, far longer than anything the tests wait for. */
    static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(60);

    /** How long B's sends stall in the latency test. */
    static final Duration STALL = Duration.ofSeconds(4);

    static final List<String> KEYS = List.of("k0", "k1", "k2");

    final AtomicReference<WorkerRuntime> runtime = new AtomicReference<>();
    final Steps steps = new Steps();
    /** How many producers the relay started, by {@code transactional.id}. */
    final Map<String, Integer> started = new ConcurrentHashMap<>();

    @AfterEach
    void stop() {
        WorkerRuntime r = runtime.get();
        if (r != null) {
            r.close();
        }
        kafka.proxy().restore();
    }

    /**
     * Review finding S2 (the fix of commit 4301242): B's commit times out while C is already sent
     * on the other producer. C must be aborted and both sent again in order; and B's transaction,
     * which the broker never heard the end of, must be aborted at the next batch, which starts the
     * timed-out producer's id again although that batch uses the first producer: otherwise it
     * stays open until {@code transaction.timeout.ms} (a minute here) and holds every {@code
     * read_committed} consumer of the partition back at B's first record.
     */
    @Test
    void aCommitThatTimesOutBehindTheNextBatchIsSentAgainWithItAndItsOpenTransactionIsAbortedAtTheNextBatch()
            throws Exception {
        String topic = KafkaTopics.create(kafka.bootstrap(), "stalled-commit", 1);
        String base = transactionalId();
        steps.before(base, "flush", () -> insert(topic, 1)); // B, claimed while A commits
        steps.before(second(base), "flush", () -> insert(topic, 2)); // C, claimed while B commits
        steps.before(second(base), "commitTransaction", () -> kafka.proxy().blackhole());
        WorkerRuntime r = dispatcher(base);
        try (KeyOrderWatcher watcher = new KeyOrderWatcher(kafka.bootstrap(), topic)) {
            insert(topic, 0); // A

            // B's commit is given up after max.block.ms (10 s); C is aborted, the relay backs off.
            await().atMost(Duration.ofSeconds(40))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> failures(r) > 0);
            kafka.proxy().restore(); // the network comes back once the relay gave the batch up
            long back = System.nanoTime();

            // Up to the transaction timeout: what the old code needed, measured rather than cut short.
            watcher.awaitDistinct(3 * KEYS.size(), PUBLISH_TIMEOUT);
            Duration visibleAfter = Duration.ofNanos(System.nanoTime() - back);
            assertThat(visibleAfter)
                    .as(
                            "B and C visible to read_committed consumers far sooner than B's transaction"
                                    + " would time out (%s): it was aborted at the next batch",
                            PUBLISH_TIMEOUT)
                    .isLessThan(Duration.ofSeconds(20));
            assertThat(watcher.violations())
                    .as("rows seen while an earlier row of their key was missing")
                    .isEmpty();
            assertThat(watcher.duplicates())
                    .as("B's commit never reached the broker and C was aborted: each row is visible once")
                    .isZero();
        }
        assertThat(started.get(second(base)))
                .as("the timed-out producer's id initialised again (by the next batch, on the first producer)")
                .isEqualTo(2);
        assertThat(KafkaTopics.readAllUncommitted(kafka.bootstrap(), topic, Duration.ofSeconds(15)))
                .as("every record written, aborted ones too: C was sent behind B before B's commit"
                        + " failed, then both were sent again in order")
                .extracting(StalledProducerIT::seq)
                .containsExactly(0, 0, 0, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2);
        await().atMost(Duration.ofSeconds(30)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
    }

    /**
     * Review finding S3 (commit 94ff168): a batch's publish latency ends when its commit ended on
     * the {@value OutboxPublisher#COMMIT_THREAD} thread, not when the relay learns the outcome,
     * which is only after the next batch's sends. B's sends stall for {@link #STALL} while A
     * commits at once: A's rows must be counted under it, B's over it. Stamped when the relay
     * learnt it, A's latency would take in B's stall.
     */
    @Test
    void aBatchsPublishLatencyEndsWhenItsCommitEndedNotWhenTheRelayLearntItAfterTheNextBatchsSends() throws Exception {
        String topic = KafkaTopics.create(kafka.bootstrap(), "stalled-sends", 1);
        String base = transactionalId();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        WorkerRuntime r;
        try {
            steps.before(base, "flush", () -> insert(topic, 1)); // B, claimed while A commits
            steps.before(second(base), "beginTransaction", () -> {
                kafka.proxy().blackhole(); // B's sends stall, then go through on a new connection
                timer.schedule(() -> kafka.proxy().restore(), STALL.toMillis(), TimeUnit.MILLISECONDS);
            });
            r = dispatcher(base);
            try (KeyOrderWatcher watcher = new KeyOrderWatcher(kafka.bootstrap(), topic)) {
                insert(topic, 0); // A
                watcher.awaitDistinct(2 * KEYS.size(), Duration.ofSeconds(30));
                assertThat(watcher.violations()).isEmpty();
            }
        } finally {
            timer.shutdownNow();
        }
        // B's rows are visible once its markers are written; the relay records their latency a
        // moment later, when its thread learns the outcome: wait for that, and for the rows' delete
        // (the next test's relay must not find B's rows still in the outbox).
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(latencyBuckets(r).get(Double.POSITIVE_INFINITY))
                        .as("rows published")
                        .isEqualTo(6.0));
        await().atMost(Duration.ofSeconds(30)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
        Map<Double, Double> buckets = latencyBuckets(r);
        double under = buckets.keySet().stream()
                .filter(le -> le < STALL.toMillis() / 1000.0)
                .max(Double::compare)
                .orElseThrow();
        assertThat(buckets.get(under))
                .as("rows whose publish latency was under %s s: A's, not B's", under)
                .isEqualTo(3.0);
    }

    /**
     * Steps a test arms on the relay's producers: each runs once, before the first call of its
     * method on the producer of its {@code transactional.id}, on the thread that calls it.
     */
    static final class Steps {
        private final Map<String, Runnable> armed = new ConcurrentHashMap<>();

        void before(String transactionalId, String method, Runnable step) {
            armed.put(transactionalId + " " + method, step);
        }

        void run(String transactionalId, String method) {
            Runnable step = armed.remove(transactionalId + " " + method);
            if (step != null) {
                step.run();
            }
        }
    }

    /**
     * A dispatcher with two producers on the test's broker, the second ({@code base-1}) through the
     * proxy: the same producer the relay makes, built for the proxied listener instead.
     */
    private WorkerRuntime dispatcher(String base) {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrap());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put(DispatcherSettings.PRODUCERS, "2");
        env.put(DispatcherSettings.PUBLISH_TIMEOUT, PUBLISH_TIMEOUT.toSeconds() + "s");
        Env e = new Env(env);
        var wiring = EventDispatcher.wiring(e, (String id, Producer<byte[], byte[]> direct) -> {
            started.merge(id, 1, Integer::sum);
            Producer<byte[], byte[]> p = direct;
            if (id.equals(OutboxPublisher.transactionalId(base, 1))) {
                direct.close(Duration.ZERO);
                p = KafkaClients.transactionalProducer(
                        kafka.proxiedBootstrap(),
                        runtime.get().settings().kafka(),
                        EventDispatcher.NAME + "-outbox-1",
                        id,
                        PUBLISH_TIMEOUT);
            }
            return InterceptedProducer.of(p, (method, args) -> steps.run(id, method));
        });
        e.validate();
        WorkerRuntime r = WorkerRuntime.start(EventDispatcher.NAME, 0, e);
        runtime.set(r);
        wiring.accept(r);
        await().atMost(Duration.ofSeconds(30)).until(() -> OutboxRelayIT.isLeader(r));
        return r;
    }

    /** The {@code transactional.id} of the relay's second producer. */
    private static String second(String base) {
        return OutboxPublisher.transactionalId(base, 1);
    }

    private static String transactionalId() throws Exception {
        return (String) db.queryValue("select transactional_id from dispatcher_identity where name = 'outbox'");
    }

    /** One row per key with {@code seq}, in one transaction: a batch of its own. */
    private static void insert(String topic, int seq) {
        try (Connection c = db.connect();
                PreparedStatement s =
                        c.prepareStatement("insert into outbox (topic, key, payload) values (?, ?, ?::jsonb)")) {
            c.setAutoCommit(false);
            for (String key : KEYS) {
                s.setString(1, topic);
                s.setString(2, key);
                s.setString(3, "{\"seq\":" + seq + "}");
                s.execute();
            }
            c.commit();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int seq(ConsumerRecord<String, String> r) {
        return Integer.parseInt(r.value().replaceAll("\\D", ""));
    }

    private static double failures(WorkerRuntime r) {
        return OutboxRelayIT.gauge(r, "ragline_outbox_publish_failures_total");
    }

    private static final Pattern BUCKET =
            Pattern.compile("^ragline_outbox_publish_latency_seconds_bucket\\{.*le=\"([^\"]+)\".*} (\\S+)$");

    /** The publish latency histogram as scraped: each bucket's upper bound (seconds) and its cumulative count. */
    private static Map<Double, Double> latencyBuckets(WorkerRuntime r) {
        Map<Double, Double> buckets = new HashMap<>();
        r.registry().scrape().lines().forEach(l -> {
            Matcher m = BUCKET.matcher(l);
            if (m.matches()) {
                String le = m.group(1);
                buckets.put(
                        le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le),
                        Double.parseDouble(m.group(2)));
            }
        });
        assertThat(buckets).as("the publish latency histogram").isNotEmpty();
        return buckets;
    }
}
