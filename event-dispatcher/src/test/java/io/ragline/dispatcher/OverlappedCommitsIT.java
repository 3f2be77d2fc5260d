package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.dispatcher.outbox.OutboxPublisher;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The default producers ({@code RAGLINE_OUTBOX_PRODUCERS=3}, taking turns): batch N+1 is sent
 * while N commits and is committed only after N. An independent {@code read_committed} consumer ({@link KeyOrderWatcher})
 * reads while the rows flow and fails on the first row of a key it sees while an earlier row of
 * that key is missing; writers insert one row per transaction, paced, so batches are small and overlap
 * (counted by {@code ragline_outbox_claimed_ahead_total}), and rows arrive while a batch commits and
 * join the batch sent behind it ({@code ragline_outbox_topped_up_total}): in the test with failing
 * commits, such a grown batch is aborted with the one before it and both go again in order.
 */
class OverlappedCommitsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final int WRITERS = 3;
    static final int KEYS_PER_WRITER = 4;
    static final int ROWS_PER_WRITER = 500;
    static final int ROWS = WRITERS * ROWS_PER_WRITER;
    static final String TOPPED_UP = "ragline_outbox_topped_up_total";

    WorkerRuntime runtime;

    @AfterEach
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void aReadCommittedConsumerSeesEveryKeyInOrderAcrossOverlappingBatches() throws Exception {
        String topic = KafkaTopics.create("overlap-order", 3);
        runtime = dispatcher(UnaryOperator.identity());
        try (KeyOrderWatcher watcher = new KeyOrderWatcher(topic)) {
            write(topic);
            watcher.awaitDistinct(ROWS, Duration.ofSeconds(120));

            assertThat(watcher.violations())
                    .as("rows seen while an earlier row of their key was missing")
                    .isEmpty();
            assertThat(watcher.duplicates())
                    .as("no commit failed: nothing published twice")
                    .isZero();
        }
        assertThat(OutboxRelayIT.gauge(runtime, "ragline_outbox_claimed_ahead_total"))
                .as("batches claimed and sent while the one before committed")
                .isPositive();
        await().atMost(Duration.ofSeconds(30)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
    }

    @Test
    void rowsArrivingWhileABatchCommitsJoinTheBatchSentBehindItAndEveryKeyStaysInOrder() throws Exception {
        String topic = KafkaTopics.create("overlap-top-up", 3);
        String bridged = KafkaTopics.create("overlap-bridged", 1);
        // Each commit 20 ms late: rows arrive while every batch commits, and so do notifications of
        // a bridged channel, which the relay reads while it waits for a commit on the doorbell. Until
        // rows have joined a batch under way, each of the first 20 commits also writes a row of its
        // own and waits, 3 s at most, for rows to join (whenJoined): a machine slower than a claim in
        // 20 ms still tops a batch up.
        AtomicReference<WorkerRuntime> started = new AtomicReference<>();
        AtomicInteger commits = new AtomicInteger();
        AtomicInteger extra = new AtomicInteger();
        runtime = dispatcher(
                p -> InterceptedProducer.of(p, (method, args) -> {
                    if (method.equals("commitTransaction")) {
                        Thread.sleep(20);
                        WorkerRuntime r = started.get();
                        if (r != null && commits.incrementAndGet() <= 20 && toppedUp(r) == 0) {
                            whenJoined(r, topic, extra);
                        }
                    }
                }),
                Map.of("RAGLINE_NOTIFY_BRIDGE", "overlap_events=" + bridged));
        started.set(runtime);
        List<String> notified = new ArrayList<>();
        try (KeyOrderWatcher watcher = new KeyOrderWatcher(topic);
                Connection notifier = db.connect()) {
            // The bridged channel is LISTENed to right after leadership: ring until it is.
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                try (var s = notifier.createStatement()) {
                    s.execute("notify overlap_events, 'ready'");
                }
                return !KafkaTopics.read(bridged, 1, Duration.ofMillis(500)).isEmpty();
            });
            write(topic, i -> {
                if (i % 10 == 0) {
                    try (var s = notifier.createStatement()) {
                        s.execute("notify overlap_events, '" + i + "'");
                        notified.add(String.valueOf(i));
                    } catch (java.sql.SQLException e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
            watcher.awaitDistinct(ROWS, Duration.ofSeconds(120));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
            watcher.awaitDistinct(ROWS + extra.get(), Duration.ofSeconds(30));

            assertThat(watcher.violations())
                    .as("rows seen while an earlier row of their key was missing")
                    .isEmpty();
            assertThat(watcher.duplicates()).isZero();
        }
        await().atMost(Duration.ofSeconds(30))
                .until(() -> KafkaTopics.readAll(bridged, Duration.ofSeconds(10)).stream()
                        .anyMatch(r -> r.value().equals(notified.get(notified.size() - 1))));
        assertThat(KafkaTopics.readAll(bridged, Duration.ofSeconds(10)))
                .extracting(ConsumerRecord::value)
                .filteredOn(v -> !v.equals("ready"))
                .as("every bridged notification forwarded once, in order, also those read during a commit")
                .containsExactlyElementsOf(notified);
        assertThat(toppedUp(runtime))
                .as("rows sent into a batch under way because they arrived while the one before committed")
                .isPositive();
        await().atMost(Duration.ofSeconds(30)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
    }

    @Test
    void aCommitThatFailsAbortsTheBatchSentBehindItAndBothGoAgainInOrder() throws Exception {
        String topic = KafkaTopics.create("overlap-failed-commit", 3);
        AtomicInteger commits = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger failedOverGrownBatch = new AtomicInteger();
        AtomicInteger extra = new AtomicInteger();
        AtomicReference<WorkerRuntime> started = new AtomicReference<>();
        runtime = dispatcher(p -> InterceptedProducer.of(p, (method, args) -> {
            if (method.equals("commitTransaction")) {
                Thread.sleep(10); // rows arrive while it commits: the batch behind it grows, then is aborted with it
                if (commits.incrementAndGet() % 3 == 2) {
                    failed.incrementAndGet();
                    // Until one has, each of the first 5 failing commits writes a row of its own and
                    // waits, 3 s at most, for rows to join the batch behind it (whenJoined), so that a
                    // grown batch is aborted on a slow machine too (a 10 ms commit alone once ended
                    // before any ring's claim came back).
                    WorkerRuntime r = started.get();
                    if (r != null
                            && failedOverGrownBatch.get() == 0
                            && failed.get() <= 5
                            && whenJoined(r, topic, extra)) {
                        failedOverGrownBatch.incrementAndGet();
                    }
                    throw new KafkaException("injected: the commit failed");
                }
            }
        }));
        started.set(runtime);
        try (KeyOrderWatcher watcher = new KeyOrderWatcher(topic)) {
            write(topic);
            watcher.awaitDistinct(ROWS, Duration.ofSeconds(180));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
            watcher.awaitDistinct(ROWS + extra.get(), Duration.ofSeconds(30));

            assertInOrderOnceThoughCommitsFailed(watcher, failed);
        }
        assertThat(OutboxRelayIT.gauge(runtime, "ragline_outbox_claimed_ahead_total"))
                .isPositive();
        assertThat(failedOverGrownBatch.get())
                .as("failed commits while rows were sent into the batch behind them")
                .isPositive();
        await().atMost(Duration.ofSeconds(30)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
    }

    /**
     * A backlog, all of it committed before the relay starts, drains in full batches of 100, and
     * every third commit fails, which aborts the full batch sent behind it too. With no row urgent
     * each batch is claimed and sent while the full batch before it commits (the claims read in id
     * order; before full batches overlapped, none of these claims came while a batch committed).
     * With urgent rows in the backlog the claims rank, an urgent row's key overtakes the others
     * whole, and the order of every key holds all the same.
     */
    @ParameterizedTest(name = "urgent rows: {0}")
    @ValueSource(booleans = {false, true})
    void aBacklogDrainsInFullBatchesEachSentWhileTheOneBeforeCommitsAndFailedCommitsKeepTheOrder(boolean urgent)
            throws Exception {
        String topic = KafkaTopics.create("overlap-backlog", 3);
        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement("insert into outbox (topic, key, payload)"
                        + " select ?, 'w' || (n / " + KEYS_PER_WRITER + " % " + WRITERS + ") || '-k'"
                        + " || (n % " + KEYS_PER_WRITER + "), jsonb_build_object('seq', n / ("
                        + KEYS_PER_WRITER * WRITERS + ")) from generate_series(0, ?) n")) {
            s.setString(1, topic);
            s.setInt(2, ROWS - 1);
            s.execute();
        }
        if (urgent) { // a row of one key in the middle, another of a second key near the end
            db.execute("update outbox set priority = 5 where id = (select id from outbox order by id offset "
                    + (ROWS / 2) + " limit 1)");
            db.execute("update outbox set priority = -3 where id = (select id from outbox order by id offset "
                    + (ROWS - 20) + " limit 1)");
        }
        AtomicInteger commits = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        runtime = dispatcher(
                p -> InterceptedProducer.of(p, (method, args) -> {
                    if (method.equals("commitTransaction")) {
                        Thread.sleep(10); // the batch behind is claimed and sent meanwhile
                        if (commits.incrementAndGet() % 3 == 2) {
                            failed.incrementAndGet();
                            throw new KafkaException("injected: the commit failed");
                        }
                    }
                }),
                Map.of(DispatcherSettings.BATCH, "100"));
        try (KeyOrderWatcher watcher = new KeyOrderWatcher(topic)) {
            watcher.awaitDistinct(ROWS, Duration.ofSeconds(180));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> (long) db.queryValue("select count(*) from outbox") == 0);

            assertInOrderOnceThoughCommitsFailed(watcher, failed);
        }
        assertThat(OutboxRelayIT.gauge(runtime, "ragline_outbox_claims_ranked_total") > 0)
                .as("claims ranked by priority")
                .isEqualTo(urgent);
        if (!urgent) {
            assertThat(OutboxRelayIT.gauge(runtime, "ragline_outbox_claimed_ahead_total"))
                    .as("full batches claimed and sent while the one before committed")
                    .isGreaterThanOrEqualTo(5);
        }
    }

    @Test
    void aProducerFencedMidFlightByAnotherInitOfItsIdLosesNothingAndKeepsEveryKeysOrder() throws Exception {
        String topic = KafkaTopics.create("overlap-fenced", 3);
        String base = (String) db.queryValue("select transactional_id from dispatcher_identity where name = 'outbox'");
        AtomicInteger fencedErrors = new AtomicInteger();
        runtime = dispatcher(p -> countingFences(p, fencedErrors));
        try (KeyOrderWatcher watcher = new KeyOrderWatcher(topic)) {
            // While the rows flow, as a new leader's initTransactions() would, on each producer's
            // id in turn: the first writer fences after a quarter and after half of its rows.
            write(topic, i -> {
                if (i == ROWS_PER_WRITER / 4 || i == ROWS_PER_WRITER / 2) {
                    fence(OutboxPublisher.transactionalId(base, i == ROWS_PER_WRITER / 4 ? 0 : 1));
                }
            });
            watcher.awaitDistinct(ROWS, Duration.ofSeconds(180));

            assertThat(fencedErrors.get())
                    .as("calls the relay's producers lost to the fence")
                    .isPositive();
            assertThat(watcher.violations())
                    .as("rows seen while an earlier row of their key was missing")
                    .isEmpty();
            // A fenced commit never completes; duplicates may come only from a commit whose outcome
            // was unknown, and each carries an outbox id already seen (the consumers' dedup contract).
            assertThat(watcher.distinct()).isEqualTo(ROWS);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
    }

    /**
     * What a {@code read_committed} consumer sees when commits failed: every key in order and
     * nothing twice (a failed commit is aborted, with the batch sent behind it).
     */
    private static void assertInOrderOnceThoughCommitsFailed(KeyOrderWatcher watcher, AtomicInteger failed) {
        assertThat(failed.get()).as("commits that failed").isPositive();
        assertThat(watcher.violations())
                .as("rows seen while an earlier row of their key was missing")
                .isEmpty();
        assertThat(watcher.duplicates())
                .as("a failed commit is aborted: nothing of it, nor of the batch behind it, is visible")
                .isZero();
    }

    private static void fence(String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTopics.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        try (KafkaProducer<byte[], byte[]> p2 =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            p2.initTransactions();
        }
    }

    /** {@value #WRITERS} writers, each its own keys, one row per transaction, {@code seq} per key from 0. */
    private static void write(String topic) throws Exception {
        write(topic, i -> {});
    }

    /** As {@link #write(String)}, calling {@code firstWriter} before each row the first writer inserts. */
    private static void write(String topic, java.util.function.IntConsumer firstWriter) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            done.add(pool.submit(() -> {
                try (Connection c = db.connect();
                        PreparedStatement s = c.prepareStatement(
                                "insert into outbox (topic, key, payload) values (?, ?, ?::jsonb)")) {
                    for (int i = 0; i < ROWS_PER_WRITER; i++) {
                        if (writer == 0) {
                            firstWriter.accept(i);
                        }
                        s.setString(1, topic);
                        s.setString(2, "w" + writer + "-k" + (i % KEYS_PER_WRITER));
                        s.setString(3, "{\"seq\":" + (i / KEYS_PER_WRITER) + "}");
                        s.execute();
                        // Paced (about 1,000 rows/s in all), so that batches stay small, rows arrive
                        // while batches commit and join the batch behind (top-ups): unpaced, a relay
                        // that fell behind the burst once drained it in batches of about 1,000 rows.
                        Thread.sleep(2);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
    }

    /** Counts every call, and every send's callback, that failed because the producer was fenced. */
    @SuppressWarnings("unchecked")
    private static Producer<byte[], byte[]> countingFences(Producer<byte[], byte[]> real, AtomicInteger fenced) {
        return (Producer<byte[], byte[]>) Proxy.newProxyInstance(
                Producer.class.getClassLoader(), new Class<?>[] {Producer.class}, (proxy, method, args) -> {
                    if (method.getName().equals("send") && args.length == 2 && args[1] instanceof Callback cb) {
                        args = new Object[] {
                            args[0],
                            (Callback) (metadata, e) -> {
                                if (isFence(e)) {
                                    fenced.incrementAndGet();
                                }
                                cb.onCompletion(metadata, e);
                            }
                        };
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        if (isFence(e.getCause())) {
                            fenced.incrementAndGet();
                        }
                        throw e.getCause();
                    }
                });
    }

    private static boolean isFence(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            // Under transaction protocol 2 a producer whose epoch another init bumped between its
            // transactions may be told INVALID_TXN_STATE rather than fenced; here the test's own
            // initTransactions is the only thing that can make the producer's calls fail so.
            if (t instanceof ProducerFencedException
                    || t instanceof InvalidProducerEpochException
                    || t instanceof InvalidTxnStateException) {
                return true;
            }
        }
        return false;
    }

    /** Rows sent into a batch under way ({@link #TOPPED_UP}), read from the counter itself. */
    private static double toppedUp(WorkerRuntime r) {
        return r.registry().get("ragline.outbox.topped.up").counter().count();
    }

    /**
     * Called inside a commit: writes a row of a key of its own to {@code topic} (a row that arrives
     * while the commit is under way, whether or not the writers still write; counted in {@code
     * extra}), then waits, 3 s at most, for rows to be sent into the batch behind the one committing;
     * whether they were.
     */
    private static boolean whenJoined(WorkerRuntime r, String topic, AtomicInteger extra) throws Exception {
        double from = toppedUp(r);
        try (Connection c = db.connect();
                PreparedStatement s =
                        c.prepareStatement("insert into outbox (topic, key, payload) values (?, ?, '{\"seq\":0}')")) {
            s.setString(1, topic);
            s.setString(2, "extra-" + extra.incrementAndGet());
            s.execute();
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (toppedUp(r) <= from && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return toppedUp(r) > from;
    }

    private WorkerRuntime dispatcher(UnaryOperator<Producer<byte[], byte[]>> producer) {
        return dispatcher(producer, Map.of());
    }

    private WorkerRuntime dispatcher(UnaryOperator<Producer<byte[], byte[]>> producer, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(db.env());
        env.putAll(extra);
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put(DispatcherSettings.PRODUCERS, String.valueOf(DispatcherSettings.DEFAULT_PRODUCERS));
        Env e = new Env(env);
        var wiring = EventDispatcher.wiring(e, producer);
        e.validate();
        WorkerRuntime r = WorkerRuntime.start(EventDispatcher.NAME, 0, e);
        wiring.accept(r);
        await().atMost(Duration.ofSeconds(30)).until(() -> OutboxRelayIT.isLeader(r));
        return r;
    }
}
