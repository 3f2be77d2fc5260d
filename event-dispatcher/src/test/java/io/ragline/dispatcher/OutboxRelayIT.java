package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.dispatcher.outbox.OutboxPublisher;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The outbox relay in-process, against real Postgres and a real broker. */
class OutboxRelayIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    WorkerRuntime runtime;

    @AfterEach
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void tenThousandRowsFromEightWritersArriveInKeyOrderAndTheTableDrains() throws Exception {
        String topic = KafkaTopics.create("outbox", 3);
        runtime = dispatcher(Map.of());
        int writers = 8;
        int perWriter = 1250;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            done.add(pool.submit(() -> {
                try (Connection c = db.connect();
                        PreparedStatement s = c.prepareStatement(
                                "insert into outbox (topic, key, payload) values (?, ?, ?::jsonb)")) {
                    c.setAutoCommit(false);
                    for (int i = 0; i < perWriter; i++) {
                        String key = "w" + writer + "-k" + (i % 25);
                        s.setString(1, topic);
                        s.setString(2, key);
                        s.setString(3, "{\"seq\":" + i + "}");
                        s.addBatch();
                        if (i % 50 == 49) {
                            s.executeBatch();
                            c.commit();
                        }
                    }
                    s.executeBatch();
                    c.commit();
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();

        List<ConsumerRecord<String, String>> records =
                KafkaTopics.read(topic, writers * perWriter, Duration.ofSeconds(120));

        assertThat(records.stream().map(r -> outboxId(r)).distinct().count()).isEqualTo(writers * perWriter);
        Map<String, Integer> lastSeq = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            int seq = Integer.parseInt(r.value().replaceAll("\\D", ""));
            Integer previous = lastSeq.put(r.key(), seq);
            assertThat(previous == null || previous <= seq)
                    .as("key %s went from %s to %s", r.key(), previous, seq)
                    .isTrue();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
        assertThat(runtime.registry().scrape())
                .containsPattern("ragline_outbox_leader\\{[^}]*} 1.0")
                .contains("ragline_outbox_publish_latency_seconds_bucket")
                .contains("ragline_outbox_batch_size_count");
    }

    @Test
    void aRowWhoseDoorbellWasMissedIsPublishedByTheTimer() throws Exception {
        String topic = KafkaTopics.create("missed", 1);
        runtime = dispatcher(Map.of("RAGLINE_OUTBOX_POLL_INTERVAL", "1s"));
        await().atMost(Duration.ofSeconds(30)).until(() -> isLeader(runtime));
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            // Triggers off for this session: the insert rings no doorbell, as if nobody had listened.
            s.execute("set session_replication_role = replica");
            s.execute("insert into outbox (topic, key, payload) values ('" + topic + "', 'k', '{\"missed\":true}')");
        }

        List<ConsumerRecord<String, String>> records = KafkaTopics.read(topic, 1, Duration.ofSeconds(30));

        assertThat(records).extracting(ConsumerRecord::value).containsExactly("{\"missed\": true}");
    }

    /**
     * {@code RAGLINE_OUTBOX_LINGER}: a batch begins no sooner than the linger after the one before,
     * so rows that trickle in meanwhile gather into one batch, one Kafka transaction, rather than one
     * each, in key order. After a first row (the producers started, the linger passed), twenty rows
     * 10 ms apart under a linger of 500 ms: the first alone, the rest together (three batches
     * allowed, for a machine slow enough to spread the inserts past the linger); without the linger
     * nearly every row was a batch of its own. With one producer the batch claimed ahead during a
     * commit is claimed at the linger's end, so it too holds the rows the linger gathers.
     */
    @ParameterizedTest(name = "producers: {0}")
    @ValueSource(strings = {"1", "3"})
    void rowsArrivingWithinTheLingerGatherIntoOneBatch(String producers) throws Exception {
        String topic = KafkaTopics.create("linger", 1);
        runtime = dispatcher(Map.of(DispatcherSettings.LINGER, "500ms", DispatcherSettings.PRODUCERS, producers));
        await().atMost(Duration.ofSeconds(30)).until(() -> isLeader(runtime));
        try (Connection c = db.connect()) {
            insert(c, topic, "warm-up", "{\"seq\":0}");
        }
        assertThat(KafkaTopics.read(topic, 1, Duration.ofSeconds(30))).hasSize(1);
        Thread.sleep(600);
        double before = gauge(runtime, "ragline_outbox_batch_size_count");
        try (Connection c = db.connect()) {
            for (int i = 0; i < 20; i++) {
                insert(c, topic, "k", "{\"seq\":" + i + "}");
                Thread.sleep(10);
            }
        }

        List<ConsumerRecord<String, String>> records = KafkaTopics.read(topic, 21, Duration.ofSeconds(30));

        assertThat(records)
                .filteredOn(r -> r.key().equals("k"))
                .extracting(ConsumerRecord::value)
                .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 20)
                        .mapToObj(i -> "{\"seq\": " + i + "}")
                        .toList());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> gauge(runtime, "ragline_outbox_batch_size_count") - before >= 2);
        assertThat(gauge(runtime, "ragline_outbox_batch_size_count") - before)
                .as("batches published for the 20 rows")
                .isLessThanOrEqualTo(3);
    }

    /**
     * The linger never holds a backlog back: after a full batch the next is claimed at once. 200
     * rows committed before the relay starts, batches of 20, a linger of 1 s: lingering after each
     * full batch would spread the ten batches' sends over at least 9 s (the records' CreateTime,
     * stamped at each send); at once they go within a few hundred milliseconds.
     */
    @ParameterizedTest(name = "producers: {0}")
    @ValueSource(strings = {"1", "3"})
    void aBacklogIsNotHeldBackByTheLinger(String producers) throws Exception {
        String topic = KafkaTopics.create("linger-backlog", 1);
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload) select '" + topic
                    + "', 'k', jsonb_build_object('seq', n) from generate_series(0, 199) n");
        }
        runtime = dispatcher(Map.of(
                DispatcherSettings.LINGER, "1s",
                DispatcherSettings.BATCH, "20",
                DispatcherSettings.PRODUCERS, producers));

        List<ConsumerRecord<String, String>> records = KafkaTopics.read(topic, 200, Duration.ofSeconds(60));

        assertThat(records).hasSize(200);
        long first = records.stream().mapToLong(ConsumerRecord::timestamp).min().orElseThrow();
        long last = records.stream().mapToLong(ConsumerRecord::timestamp).max().orElseThrow();
        assertThat(Duration.ofMillis(last - first))
                .as("ten full batches sent, none waiting out the 1 s linger (at least 9 s if each did)")
                .isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void pollOnlyModePublishesWithoutListen() throws Exception {
        String topic = KafkaTopics.create("poll", 1);
        runtime = dispatcher(Map.of("RAGLINE_OUTBOX_MODE", "poll"));
        insert(topic, "k", "{\"a\":1}", 0);

        assertThat(KafkaTopics.read(topic, 1, Duration.ofSeconds(30))).hasSize(1);
    }

    @Test
    void headersAndTombstonesAreCarriedAndTheOutboxIdIsAdded() throws Exception {
        String topic = KafkaTopics.create("headers", 1);
        runtime = dispatcher(Map.of());
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload, headers) values ('" + topic
                    + "', 'doc-1', null, '{\"trace\":\"abc\"}')");
        }

        ConsumerRecord<String, String> r =
                KafkaTopics.read(topic, 1, Duration.ofSeconds(30)).get(0);

        assertThat(r.key()).isEqualTo("doc-1");
        assertThat(r.value()).isNull();
        assertThat(new String(r.headers().lastHeader("trace").value(), StandardCharsets.UTF_8))
                .isEqualTo("abc");
        assertThat(outboxId(r)).isPositive();
    }

    @Test
    void rawNotificationsOfABridgedChannelReachTheirTopic() throws Exception {
        String topic = KafkaTopics.create("bridge", 1);
        runtime = dispatcher(Map.of("RAGLINE_NOTIFY_BRIDGE", "app_events=" + topic));
        await().atMost(Duration.ofSeconds(30)).until(() -> isLeader(runtime));
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            // LISTEN is issued after leadership, and a notification before it is lost: ring until one arrives.
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                s.execute("notify app_events, 'ready'");
                return !KafkaTopics.read(topic, 1, Duration.ofMillis(500)).isEmpty();
            });
            s.execute("notify app_events, '{\"order\":42}'");
        }

        await().atMost(Duration.ofSeconds(30))
                .ignoreExceptionsInstanceOf(IllegalStateException.class) // readAll short of the end: read again
                .until(() -> KafkaTopics.readAll(topic, Duration.ofSeconds(10)).stream()
                        .anyMatch(r -> !r.value().equals("ready")));
        List<ConsumerRecord<String, String>> records = KafkaTopics.readAll(topic, Duration.ofSeconds(10)).stream()
                .filter(r -> !r.value().equals("ready"))
                .toList();

        assertThat(records).extracting(ConsumerRecord::value).containsExactly("{\"order\":42}");
        assertThat(records.get(0).key()).isEqualTo("app_events");
    }

    @Test
    void aSecondWriterOfAKeyWaitsForTheFirstSoTheKeyArrivesInCommitOrder() throws Exception {
        String topic = KafkaTopics.create("late-commit", 1);
        runtime = dispatcher(Map.of("RAGLINE_OUTBOX_POLL_INTERVAL", "200ms"));
        await().atMost(Duration.ofSeconds(30)).until(() -> isLeader(runtime));
        ExecutorService second = Executors.newSingleThreadExecutor();
        try (Connection first = db.connect()) {
            first.setAutoCommit(false);
            insert(first, topic, "doc-1", "{\"writer\":\"first\"}");
            // The second writer of the same key commits at once; without the per-key lock its row
            // (a higher id) would be published while the first is still open.
            Future<?> secondDone = second.submit(() -> {
                try (Connection c = db.connect()) {
                    insert(c, topic, "doc-1", "{\"writer\":\"second\"}");
                }
                return null;
            });
            Thread.sleep(1500); // several drains pass while the first transaction is open
            assertThat(secondDone).as("the second writer waits for the first").isNotDone();
            first.commit();
            secondDone.get(30, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            second.shutdownNow();
        }

        List<ConsumerRecord<String, String>> records = KafkaTopics.read(topic, 2, Duration.ofSeconds(30));

        assertThat(records)
                .extracting(ConsumerRecord::value)
                .containsExactly("{\"writer\": \"first\"}", "{\"writer\": \"second\"}");
        assertThat(outboxId(records.get(0))).isLessThan(outboxId(records.get(1)));
    }

    @Test
    void manyConcurrentWritersOfTheSameKeysPublishEachKeyInCommitOrder() throws Exception {
        String topic = KafkaTopics.create("same-keys", 3);
        runtime = dispatcher(Map.of("RAGLINE_OUTBOX_BATCH", "50"));
        int writers = 8;
        int perWriter = 200;
        // Each writer appends to shared keys. A counter per key, taken after the outbox insert
        // in the same transaction, numbers the key's events in commit order; the outbox must
        // publish each key's numbers in sequence.
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("create table key_counters (key text primary key, n int not null)");
            s.execute("insert into key_counters select 'k' || i, 0 from generate_series(0, 4) i");
        }
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            done.add(pool.submit(() -> {
                java.util.Random random = new java.util.Random(writer);
                try (Connection c = db.connect();
                        PreparedStatement row = c.prepareStatement(
                                "insert into outbox (topic, key, payload) values (?, ?, '{}') returning id");
                        PreparedStatement count =
                                c.prepareStatement("update key_counters set n = n + 1 where key = ? returning n");
                        PreparedStatement fill = c.prepareStatement(
                                "update outbox set payload = jsonb_build_object('n', ?) where id = ?")) {
                    c.setAutoCommit(false);
                    for (int i = 0; i < perWriter; i++) {
                        String key = "k" + random.nextInt(5);
                        row.setString(1, topic);
                        row.setString(2, key);
                        long id = single(row);
                        count.setString(1, key);
                        long n = single(count);
                        fill.setLong(1, n);
                        fill.setLong(2, id);
                        fill.execute();
                        c.commit();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();

        await().atMost(Duration.ofSeconds(60)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
        List<ConsumerRecord<String, String>> records = KafkaTopics.readAll(topic, Duration.ofSeconds(60));

        Map<String, Integer> last = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            int n = Integer.parseInt(r.value().replaceAll("\\D", ""));
            int previous = last.getOrDefault(r.key(), 0);
            assertThat(n).as("key %s after %s", r.key(), previous).isEqualTo(previous + 1);
            last.put(r.key(), n);
        }
        assertThat(last.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(writers * perWriter);
    }

    @Test
    void aRowKafkaRefusesForGoodIsDeadLetteredWhileOtherKeysFlow() throws Exception {
        String topic = KafkaTopics.create("refused", 1);
        runtime = dispatcher(Map.of("RAGLINE_OUTBOX_MAX_ATTEMPTS", "3"));
        await().atMost(Duration.ofSeconds(30)).until(() -> isLeader(runtime));
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            // Larger than the producer's max.request.size (1 MiB): Kafka refuses it every time.
            try (PreparedStatement s = c.prepareStatement("insert into outbox (topic, key, payload) values (?,"
                    + " 'big', jsonb_build_object('blob', repeat('x', 1200000)))")) {
                s.setString(1, topic);
                s.execute();
            }
            insert(c, topic, "big", "{\"after\":\"big\"}");
            insert(c, topic, "small", "{\"other\":\"key\"}");
            c.commit();
        }

        // The other key does not wait for the refused row's attempts.
        List<ConsumerRecord<String, String>> first = KafkaTopics.read(topic, 1, Duration.ofSeconds(20));
        assertThat(first).extracting(ConsumerRecord::key).containsExactly("small");
        // After the last attempt the row moves aside and its key moves on.
        await().atMost(Duration.ofSeconds(60))
                .until(() ->
                        (long) db.queryValue("select count(*) from outbox_dead_letters where topic = '" + topic + "'")
                                == 1);
        assertThat(db.queryValue("select attempts from outbox_dead_letters where topic = '" + topic + "'"))
                .isEqualTo(3);
        assertThat((String) db.queryValue("select last_error from outbox_dead_letters where topic = '" + topic + "'"))
                .contains("RecordTooLargeException");
        List<ConsumerRecord<String, String>> all = KafkaTopics.read(topic, 2, Duration.ofSeconds(30));
        assertThat(all)
                .extracting(ConsumerRecord::value)
                .containsExactly("{\"other\": \"key\"}", "{\"after\": \"big\"}");
        await().atMost(Duration.ofSeconds(30)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
        assertThat(runtime.registry().scrape()).containsPattern("ragline_outbox_dead_lettered_total\\{[^}]*} 1.0");
    }

    @Test
    void rowsForAMissingTopicHoldBackThatTopicAloneAndAreDeadLetteredWhileAnotherTopicFlows() throws Exception {
        String present = KafkaTopics.create("present", 1);
        // The test broker creates topics on demand. A name that collides with an existing one
        // ('_' against '.') cannot be created, so Kafka answers for it exactly as a broker without
        // auto-creation answers for a missing topic: not in metadata, unknown to the admin client.
        String missing = KafkaTopics.create("missing.x", 1).replace('.', '_');
        runtime = dispatcher(Map.of("RAGLINE_OUTBOX_MAX_ATTEMPTS", "3"));
        await().atMost(Duration.ofSeconds(30)).until(() -> isLeader(runtime));
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            for (int i = 0; i < 8; i++) { // distinct keys: a hold of one key would not stop the next
                insert(c, missing, "m" + i, "{\"m\":" + i + "}");
                insert(c, present, "p" + i, "{\"p\":" + i + "}");
            }
            c.commit();
        }
        long inserted = System.nanoTime();

        // One send to the missing topic waits max.block.ms (10 s); after that the topic waits
        // alone. Held back key by key, each of its eight keys would cost the batch 10 s again.
        List<ConsumerRecord<String, String>> arrived = KafkaTopics.read(present, 8, Duration.ofSeconds(35));
        Duration took = Duration.ofNanos(System.nanoTime() - inserted);
        assertThat(arrived)
                .extracting(ConsumerRecord::key)
                .containsExactly("p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7");
        assertThat(took).isLessThan(Duration.ofSeconds(35));

        await().atMost(Duration.ofSeconds(60))
                .until(() ->
                        (long) db.queryValue("select count(*) from outbox_dead_letters where topic = '" + missing + "'")
                                == 8);
        assertThat((long) db.queryValue("select count(*) from outbox")).isZero();
        assertThat((long) db.queryValue(
                        "select count(*) from outbox_dead_letters where topic = '" + missing + "' and attempts = 3"))
                .isEqualTo(8);
        assertThat((String) db.queryValue(
                        "select min(last_error) from outbox_dead_letters where topic = '" + missing + "'"))
                .containsAnyOf("UnknownTopicOrPartition", "not present in metadata");
        assertThat(runtime.registry().scrape()).containsPattern("ragline_outbox_dead_lettered_total\\{[^}]*} 8.0");
    }

    @Test
    void aDispatcherThatStandsByKeepsReportingTheBacklog() throws Exception {
        String topic = KafkaTopics.create("standby-backlog", 1);
        runtime = dispatcher(Map.of());
        await().atMost(Duration.ofSeconds(30)).until(() -> isLeader(runtime));
        insert(topic, "k", "{\"n\":0}", 0);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> gauge(runtime, "ragline_outbox_backlog_rows") == 0
                        && (long) db.queryValue("select count(*) from outbox") == 0);
        try {
            // Another dispatcher holds the lease now (this one froze past it, say): it stands by.
            try (Connection c = db.connect();
                    Statement s = c.createStatement()) {
                s.execute("update dispatcher_leases set holder = 'another', expires_at = clock_timestamp() + interval"
                        + " '1 hour' where name = 'outbox'");
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> !isLeader(runtime));
            for (int i = 1; i <= 3; i++) {
                insert(topic, "k", "{\"n\":" + i + "}", 0);
            }

            await().atMost(Duration.ofSeconds(30)).until(() -> gauge(runtime, "ragline_outbox_backlog_rows") == 3);
            assertThat(gauge(runtime, "ragline_outbox_oldest_age_seconds")).isPositive();
        } finally {
            try (Connection c = db.connect();
                    Statement s = c.createStatement()) {
                s.execute("delete from dispatcher_leases where holder = 'another'");
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> gauge(runtime, "ragline_outbox_backlog_rows") == 0);
        assertThat(KafkaTopics.read(topic, 4, Duration.ofSeconds(30))).hasSize(4);
    }

    /** The value of the (untagged but for {@code process}) gauge {@code name}. */
    static double gauge(WorkerRuntime r, String name) {
        return r.registry()
                .scrape()
                .lines()
                .filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no gauge " + name));
    }

    private static long single(PreparedStatement s) throws Exception {
        try (java.sql.ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void insert(Connection c, String topic, String key, String payload) throws Exception {
        try (PreparedStatement s =
                c.prepareStatement("insert into outbox (topic, key, payload) values (?, ?, ?::jsonb)")) {
            s.setString(1, topic);
            s.setString(2, key);
            s.setString(3, payload);
            s.execute();
        }
    }

    private WorkerRuntime dispatcher(Map<String, String> extra) {
        Map<String, String> env = ProducersUnderTest.apply(new HashMap<>(db.env()));
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.putAll(extra);
        Env e = new Env(env);
        var wiring = EventDispatcher.wiring(e);
        e.validate();
        WorkerRuntime r = WorkerRuntime.start(EventDispatcher.NAME, 0, e);
        wiring.accept(r);
        return r;
    }

    private static void insert(String topic, String key, String payload, int priority) throws Exception {
        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement(
                        "insert into outbox (topic, key, payload, priority) values (?, ?, ?::jsonb, ?)")) {
            s.setString(1, topic);
            s.setString(2, key);
            s.setString(3, payload);
            s.setInt(4, priority);
            s.execute();
        }
    }

    static boolean isLeader(WorkerRuntime r) {
        return r.registry()
                .scrape()
                .lines()
                .anyMatch(l -> l.startsWith("ragline_outbox_leader{") && l.endsWith(" 1.0"));
    }

    static long outboxId(ConsumerRecord<String, String> r) {
        return Long.parseLong(
                new String(r.headers().lastHeader(OutboxPublisher.OUTBOX_ID).value(), StandardCharsets.UTF_8));
    }
}
