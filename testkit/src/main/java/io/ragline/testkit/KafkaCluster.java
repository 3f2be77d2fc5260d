package io.ragline.testkit;

import io.ragline.devstack.kafka.LocalKafkaCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replicated Kafka cluster of a test class's own: {@link LocalKafkaCluster}'s brokers (three by
 * default: replication factor 3, {@code min.insync.replicas=2}), each a JVM of its own with its data
 * under {@code target/kafka-cluster-<random>/broker-<id>}, removed after the class unless a test
 * failed (the brokers' logs are there). Register it as {@code @RegisterExtension static final
 * KafkaCluster kafka = new KafkaCluster();}. Brokers are numbered from 1; a test stops, kills and
 * restarts them one by one, and waits for {@link #awaitFullIsr} before the next fault.
 */
public final class KafkaCluster implements BeforeAllCallback, AfterTestExecutionCallback, AfterAllCallback {
    private static final Logger log = LoggerFactory.getLogger(KafkaCluster.class);

    private final int brokers;
    private Path dir;
    private LocalKafkaCluster cluster;
    private volatile boolean failed;

    public KafkaCluster() {
        this(3);
    }

    public KafkaCluster(int brokers) {
        this.brokers = brokers;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dir = Files.createDirectories(Path.of("target").toAbsolutePath())
                .resolve("kafka-cluster-" + UUID.randomUUID().toString().substring(0, 8));
        cluster = new LocalKafkaCluster(dir, brokers, message -> log.info("kafka cluster: {}", message));
        long started = System.nanoTime();
        cluster.start();
        log.info("kafka cluster of {} brokers ready in {} ms", brokers, (System.nanoTime() - started) / 1_000_000);
    }

    @Override
    public void afterTestExecution(ExtensionContext context) {
        if (context.getExecutionException().isPresent()) {
            failed = true;
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        if (cluster != null) {
            cluster.close();
        }
        if (dir != null && !failed && context.getExecutionException().isEmpty()) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** Every broker's address, {@code KAFKA_BOOTSTRAP_SERVERS} of a process using this cluster. */
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    public int brokers() {
        return brokers;
    }

    public int replicationFactor() {
        return cluster.replicationFactor();
    }

    public int minInsyncReplicas() {
        return cluster.minInsyncReplicas();
    }

    /** SIGKILL to broker {@code id} (from 1), waiting until it is gone. */
    public void kill(int id) {
        cluster.kill(id);
    }

    /** SIGTERM to broker {@code id}: its controlled shutdown, waiting until it exited. */
    public void terminate(int id) {
        cluster.terminate(id);
    }

    /** Starts broker {@code id} again; returns once the cluster lists it (it may still be catching up). */
    public void restart(int id) {
        cluster.restart(id);
    }

    public boolean isRunning(int id) {
        return cluster.isRunning(id);
    }

    /** Until every partition has a leader and all its replicas in sync, or fails after {@code timeout}. */
    public void awaitFullIsr(Duration timeout) {
        cluster.awaitFullIsr(timeout);
    }

    /** The node that is the active controller of the quorum now. */
    public int activeController() {
        return cluster.activeController();
    }

    /** The broker leading {@code topic}'s {@code partition} now, if any. */
    public Optional<Integer> leaderOf(String topic, int partition) {
        return cluster.leaderOf(topic, partition);
    }

    /** The cluster itself, for what this class does not pass on. */
    public LocalKafkaCluster cluster() {
        return cluster;
    }
}
