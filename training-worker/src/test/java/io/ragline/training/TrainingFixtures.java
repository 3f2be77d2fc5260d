package io.ragline.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;

/** What the training-worker's integration tests share: an in-process worker, SQL, events, offsets, meters. */
final class TrainingFixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingFixtures() {}

    /** A training-worker in this JVM, as {@link TrainingWorker#main} wires it, with {@code env} only. */
    static WorkerRuntime startWorker(String name, Map<String, String> env) {
        Env e = new Env(env);
        var wiring = TrainingWorker.wiring(e);
        e.validate();
        WorkerRuntime runtime = WorkerRuntime.start(name, 0, e);
        wiring.accept(runtime);
        return runtime;
    }

    /** The first column of the first row of {@code sql}, or null. */
    static Object value(PostgresSchema db, String sql, Object... args) throws Exception {
        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getObject(1) : null;
            }
        }
    }

    /** The {@code pipeline-events} outbox payloads of {@code type} keyed {@code project}, oldest first. */
    static List<JsonNode> events(PostgresSchema db, String type, String project) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement("select payload::text from outbox where topic ="
                        + " 'pipeline-events' and key = ? and payload->>'type' = ? order by id")) {
            s.setString(1, project);
            s.setString(2, type);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(JSON.readTree(rs.getString(1)));
                }
            }
        }
        return out;
    }

    /** A fresh admin client of the test broker. */
    static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTopics.bootstrapServers()));
    }

    /** {@code group} as the broker's coordinator describes it: state, members, their partitions. */
    static ConsumerGroupDescription describe(String group) throws Exception {
        try (Admin admin = admin()) {
            return admin.describeConsumerGroups(List.of(group)).all().get().get(group);
        }
    }

    /** {@code group}'s committed offset of {@code topic}'s {@code partition}, read by an admin client (-1 if none). */
    static long committed(String group, String topic, int partition) throws Exception {
        try (Admin admin = admin()) {
            return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().entrySet().stream()
                    .filter(e -> e.getKey().topic().equals(topic)
                            && e.getKey().partition() == partition
                            && e.getValue() != null)
                    .mapToLong(e -> e.getValue().offset())
                    .max()
                    .orElse(-1);
        }
    }

    /** The sum of {@code runtime}'s counters {@code name} with tag {@code key=value} (0 if none yet). */
    static double count(WorkerRuntime runtime, String name, String key, String value) {
        return runtime.registry().find(name).tag(key, value).counters().stream()
                .mapToDouble(Counter::count)
                .sum();
    }
}
