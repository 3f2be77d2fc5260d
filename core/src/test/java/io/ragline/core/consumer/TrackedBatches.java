package io.ragline.core.consumer;

import com.zaxxer.hikari.HikariDataSource;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Batch loops with overlapped writes on real Kafka and Postgres ({@link AppliedTable}), and what
 * the tests of {@link OverlappedWrites} look at: each record's prepares, the transactions running
 * at once (from before the sink's transaction starts until after it committed), and the prepares
 * that ran while a transaction did. {@link Step} runs inside each transaction, before the rows.
 */
final class TrackedBatches implements AutoCloseable {
    /** Runs inside a batch's transaction before its rows are inserted; may throw to fail it. */
    @FunctionalInterface
    interface Step {
        void run(List<InboundRecord<String>> records, Connection c) throws Exception;
    }

    final Map<String, Integer> prepares = new ConcurrentHashMap<>();
    final AtomicInteger transactions = new AtomicInteger();
    final AtomicInteger mostAtOnce = new AtomicInteger();
    final AtomicInteger preparedWhileWriting = new AtomicInteger();
    final AtomicInteger committed = new AtomicInteger();
    final List<String> violations = new CopyOnWriteArrayList<>();
    /** What ended any loop of these batches other than its stop. */
    final List<Throwable> fatal = new CopyOnWriteArrayList<>();

    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger prepareCalls = new AtomicInteger();
    /** The prepares made before the transaction running now was prepared (one runs at a time). */
    private volatile int preparedBeforeThisWrite;
    /** The partitions of the transaction running (one at a time, as the tests check). */
    private final java.util.Set<TopicPartition> writing = ConcurrentHashMap.newKeySet();

    private final PostgresSchema db;
    private final HikariDataSource pool;
    private final long prepareMillis;
    private volatile Step step = (records, c) -> {};
    private volatile DeadLetters deadLetters = (r, e, n) -> {
        throw new AssertionError("no dead letter expected");
    };

    TrackedBatches(PostgresSchema db, long prepareMillis) {
        this.db = db;
        this.prepareMillis = prepareMillis;
        this.pool = Database.pool(
                DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), 6, "overlap-it", null);
    }

    void step(Step step) {
        this.step = step;
    }

    void deadLetters(DeadLetters deadLetters) {
        this.deadLetters = deadLetters;
    }

    /** A loop of {@code group} on {@code topic} with overlapped writes, batches of at most {@code maxPollRecords}. */
    ConsumerLoop<String> loop(String topic, String group, int maxPollRecords) {
        return loop(topic, group, maxPollRecords, partitions -> {});
    }

    /**
     * A loop of {@code group} on {@code topic} with overlapped writes, batches of at most {@code
     * maxPollRecords}; {@code revoking} is told (on the loop's thread) of partitions about to be
     * revoked or lost, before the loop's own listener.
     */
    ConsumerLoop<String> loop(
            String topic,
            String group,
            int maxPollRecords,
            java.util.function.Consumer<Collection<TopicPartition>> revoking) {
        return loop(topic, group, maxPollRecords, Map.of(), revoking);
    }

    /** As above, with the consumer's {@code RAGLINE_KAFKA_*} settings {@code kafka}. */
    ConsumerLoop<String> loop(
            String topic,
            String group,
            int maxPollRecords,
            Map<String, String> kafka,
            java.util.function.Consumer<Collection<TopicPartition>> revoking) {
        var consumer = KafkaClients.consumer(
                KafkaTopics.bootstrapServers(),
                KafkaSettings.from(new Env(kafka)),
                group,
                group + "-" + System.nanoTime(),
                maxPollRecords);
        return new ConsumerLoop<>(
                telling(consumer, revoking),
                List.of(topic),
                AppliedTable.decoder(),
                sink(group),
                (r, e, n) -> deadLetters.publish(r, e, n),
                FailurePolicy.defaults(),
                ConsumerLoop.Settings.of(Duration.ofMillis(20), Duration.ofMillis(200), 3),
                Clock.systemUTC(),
                ConsumerMetrics.discarding(),
                fatal::add,
                group + "-writer");
    }

    /** The sink of {@code group}, tracking its prepares and transactions. */
    BatchSink<String> sink(String group) {
        PostgresBatchSink<String> real =
                new PostgresBatchSink<>(pool, group, writer(), CircuitBreaker.ofDefaults("overlap-it"));
        return new BatchSink<>() {
            @Override
            public void write(List<InboundRecord<String>> records, List<ConsumerRecord<byte[], byte[]>> consumed)
                    throws Exception {
                prepare(records, consumed).write();
            }

            @Override
            public PreparedWrite prepare(
                    List<InboundRecord<String>> records, List<ConsumerRecord<byte[], byte[]>> consumed)
                    throws Exception {
                PreparedWrite prepared = real.prepare(records, consumed);
                int preparedSoFar = prepareCalls.get();
                return new PreparedWrite() {
                    @Override
                    public void write() throws Exception {
                        preparedBeforeThisWrite = preparedSoFar;
                        mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                        transactions.incrementAndGet();
                        consumed.forEach(r -> writing.add(new TopicPartition(r.topic(), r.partition())));
                        try {
                            prepared.write();
                            committed.incrementAndGet();
                        } finally {
                            writing.clear();
                            running.decrementAndGet();
                        }
                    }

                    @Override
                    public void discard() {
                        prepared.discard();
                    }
                };
            }

            @Override
            public Map<TopicPartition, Long> storedOffsets(Collection<TopicPartition> partitions) throws Exception {
                return real.storedOffsets(partitions);
            }
        };
    }

    private BatchWriter<String> writer() {
        return new BatchWriter<>() {
            @Override
            public void write(List<InboundRecord<String>> records, Connection c) throws Exception {
                step.run(records, c);
                AppliedTable.insert(records, c);
            }

            @Override
            public BatchWriter<String> prepare(List<InboundRecord<String>> records) throws Exception {
                prepareCalls.incrementAndGet();
                if (running.get() > 0) {
                    preparedWhileWriting.incrementAndGet();
                }
                records.forEach(r -> prepares.merge(key(r.raw()), 1, Integer::sum));
                if (prepareMillis > 0) {
                    Thread.sleep(prepareMillis); // stands for the model's inference
                }
                return this;
            }
        };
    }

    /** True, inside a transaction, once the batch after it was prepared (on the consumer thread). */
    boolean nextPrepared() {
        return prepareCalls.get() > preparedBeforeThisWrite;
    }

    /** The partitions of the transaction running now (none when none runs). */
    java.util.Set<TopicPartition> writing() {
        return java.util.Set.copyOf(writing);
    }

    /** The records prepared more than once. */
    List<String> preparedAgain() {
        return prepares.entrySet().stream()
                .filter(e -> e.getValue() > 1)
                .map(Map.Entry::getKey)
                .sorted()
                .toList();
    }

    static String key(ConsumerRecord<byte[], byte[]> r) {
        return r.partition() + "@" + r.offset();
    }

    static String key(InboundRecord<String> r) {
        return key(r.raw());
    }

    /** The group's next offsets stored with the work, summed over the topic's partitions. */
    long stored(String group, String topic) throws Exception {
        Object sum = db.queryValue("select coalesce(sum(next_offset), 0) from consumer_offsets where group_id = '"
                + group + "' and topic = '" + topic + "'");
        return ((Number) sum).longValue();
    }

    /** {@code consumer}, telling {@code revoking} of partitions revoked or lost before its listener hears. */
    @SuppressWarnings("unchecked")
    private static org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> telling(
            org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
            java.util.function.Consumer<Collection<TopicPartition>> revoking) {
        return (org.apache.kafka.clients.consumer.Consumer<byte[], byte[]>) Proxy.newProxyInstance(
                TrackedBatches.class.getClassLoader(),
                new Class<?>[] {org.apache.kafka.clients.consumer.Consumer.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("subscribe")
                            && args.length == 2
                            && args[1] instanceof ConsumerRebalanceListener listener) {
                        args[1] = new ConsumerRebalanceListener() {
                            @Override
                            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                                revoking.accept(partitions);
                                listener.onPartitionsRevoked(partitions);
                            }

                            @Override
                            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                                listener.onPartitionsAssigned(partitions);
                            }

                            @Override
                            public void onPartitionsLost(Collection<TopicPartition> partitions) {
                                revoking.accept(partitions);
                                listener.onPartitionsLost(partitions);
                            }
                        };
                    }
                    try {
                        return method.invoke(consumer, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** Fetches of about ten records of a partition at a time, not all it has. */
    static final Map<String, String> SMALL_FETCHES = Map.of("RAGLINE_KAFKA_MAX_PARTITION_FETCH_BYTES", "1024");

    /**
     * {@code count} records, each in a record batch of its own (a fetch returns at least one whole
     * batch), every send acknowledged. One request in flight, as {@link KafkaTopics#producer()}
     * and for its reason: with five, a partition created a moment ago could refuse a first batch
     * and accept the next, then refuse the first for ever as out of sequence, and a record went
     * missing without a word (the test then waited for offsets the topic never reached).
     */
    static void produceInSmallBatches(String topic, int count) throws Exception {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", KafkaTopics.bootstrapServers());
        p.put("acks", "all");
        p.put("enable.idempotence", true);
        p.put("max.in.flight.requests.per.connection", 1);
        p.put("delivery.timeout.ms", 60_000);
        p.put("batch.size", 1);
        p.put("linger.ms", 0);
        List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sends =
                new java.util.ArrayList<>(count);
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(
                p,
                new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.StringSerializer())) {
            for (int i = 0; i < count; i++) {
                sends.add(producer.send(
                        new org.apache.kafka.clients.producer.ProducerRecord<>(topic, "key-" + i, "value-" + i)));
            }
            producer.flush();
            for (var send : sends) {
                send.get(); // a send that failed says so here
            }
        }
        long end = KafkaTopics.endOffsets(topic).values().stream()
                .mapToLong(Long::longValue)
                .sum();
        if (end != count) {
            throw new IllegalStateException(topic + " holds " + end + " records, " + count + " were sent");
        }
    }

    /** The records of {@code topic} applied, as partition@offset. */
    java.util.Set<String> applied(String topic) throws java.sql.SQLException {
        java.util.Set<String> keys = new java.util.HashSet<>();
        try (Connection c = db.connect();
                java.sql.ResultSet rs = c.createStatement()
                        .executeQuery("select partition || '@' || record_offset from applied where topic = '" + topic
                                + "'")) {
            while (rs.next()) {
                keys.add(rs.getString(1));
            }
        }
        return keys;
    }

    /** Kills {@code c}'s server process from another connection; the transaction's next statement fails. */
    void terminate(Connection c) throws java.sql.SQLException {
        long pid;
        try (java.sql.ResultSet rs = c.createStatement().executeQuery("select pg_backend_pid()")) {
            rs.next();
            pid = rs.getLong(1);
        }
        try (Connection other = db.connect();
                java.sql.PreparedStatement s = other.prepareStatement("select pg_terminate_backend(?::int)")) {
            s.setLong(1, pid);
            s.executeQuery().close();
        }
        c.createStatement().execute("select 1");
    }

    @Override
    public void close() {
        pool.close();
    }
}
