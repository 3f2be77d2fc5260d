package io.ragline.benchmarks;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.core.db.Migrations;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * Records per second through the worker runtime: Kafka poll, decode, one Postgres transaction per
 * batch (a batched INSERT plus the stored offsets), Kafka commit. Runs against the same real
 * services as the tests ({@code DATABASE_URL} / {@code KAFKA_BOOTSTRAP_SERVERS}, else devstack).
 *
 * <p>{@code ./mvnw -q -pl benchmarks -am install -DskipTests && ./mvnw -q -pl benchmarks exec:java
 * -Dexec.mainClass=io.ragline.benchmarks.ConsumerThroughputBenchmark [-Dexec.args=RECORDS]}
 */
public final class ConsumerThroughputBenchmark {
    private ConsumerThroughputBenchmark() {}

    public static void main(String[] args) throws Exception {
        int records = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        String schema = "bench_" + Long.toString(System.nanoTime(), 36);
        DatabaseUrl url =
                DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
        new Migrations(url, schema, "bench").migrate();
        BenchmarkDatabase.execute(
                url,
                "create table " + schema + ".bench_applied (topic text, partition int,"
                        + " record_offset bigint, key text, value text)");
        String payload = "x".repeat(200);
        System.out.printf(
                Locale.ROOT,
                "%d records of %d bytes, %d cores%n",
                records,
                payload.length(),
                Runtime.getRuntime().availableProcessors());
        System.out.println("| max.poll.records | threads | seconds | records/s |");
        System.out.println("|---:|---:|---:|---:|");
        try {
            for (int batch : new int[] {50, 500}) {
                for (int threads : new int[] {1, 2}) {
                    String topic = KafkaTopics.create("bench", 6);
                    KafkaTopics.produce(topic, records, i -> payload);
                    double seconds = consume(url, schema, topic, records, batch, threads);
                    System.out.printf(
                            Locale.ROOT, "| %d | %d | %.1f | %,.0f |%n", batch, threads, seconds, records / seconds);
                }
            }
        } finally {
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
        }
    }

    private static double consume(DatabaseUrl url, String schema, String topic, int records, int batch, int threads)
            throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("DATABASE_URL", TestServices.get().databaseUrl());
        env.put("KAFKA_BOOTSTRAP_SERVERS", TestServices.get().kafkaBootstrapServers());
        env.put("RAGLINE_DB_SCHEMA", schema);
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_GROUP_PREFIX", "bench-" + UUID.randomUUID());
        env.put("RAGLINE_MAX_POLL_RECORDS", String.valueOf(batch));
        env.put("RAGLINE_CONSUMER_THREADS", String.valueOf(threads));
        long start = System.nanoTime();
        try (WorkerRuntime runtime = WorkerRuntime.start("bench", 0, new Env(env))) {
            runtime.consume(new ConsumerBinding<>(
                    "bench", List.of(topic), r -> new String(r.value(), StandardCharsets.UTF_8), writer()));
            while (BenchmarkDatabase.count(
                            url, "select count(*) from " + schema + ".bench_applied where topic = '" + topic + "'")
                    < records) {
                if (Duration.ofNanos(System.nanoTime() - start).toMinutes() > 10) {
                    throw new IllegalStateException("not done within 10 minutes");
                }
                Thread.sleep(100);
            }
            return (System.nanoTime() - start) / 1e9;
        }
    }

    private static BatchWriter<String> writer() {
        return (batch, c) -> {
            try (PreparedStatement s = c.prepareStatement(
                    "insert into bench_applied (topic, partition, record_offset, key, value) values (?, ?, ?, ?, ?)")) {
                for (InboundRecord<String> r : batch) {
                    s.setString(1, r.topic());
                    s.setInt(2, r.partition());
                    s.setLong(3, r.offset());
                    s.setString(4, r.key());
                    s.setString(5, r.value());
                    s.addBatch();
                }
                s.executeBatch();
            }
        };
    }
}
