package io.ragline.testkit;

import static org.awaitility.Awaitility.await;

import io.ragline.devstack.kafka.LocalKafkaCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.awaitility.core.ConditionTimeoutException;
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

    /** The controller quorum as its active controller describes it now (Admin {@code describeMetadataQuorum}). */
    public QuorumInfo quorum() {
        return cluster.quorum();
    }

    /**
     * Until the quorum has an active controller other than node {@code id} (the controller that was
     * killed or stopped), as that controller itself answers; returns it. Fails after {@code timeout}.
     */
    public int awaitActiveControllerOtherThan(int id, Duration timeout) {
        return await("an active controller other than node " + id)
                .atMost(timeout)
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptions()
                .until(this::activeController, leader -> leader != id);
    }

    /**
     * Until node {@code id}, started again at {@code restarted}, is back in full: every other running
     * broker lists it ({@code describeCluster}: registered, not fenced), and it is a follower of the
     * controller quorum that caught up: it fetched from the leader since {@code restarted}, a fetch of
     * its reached the leader's log end since then (the leader's {@code lastCaughtUpTimestamp} for it,
     * on this machine's clock), and its log end offset is at or past the high watermark of the first
     * description read in this wait (it holds every metadata record committed while it was down).
     * Returns the quorum as last described. Fails after {@code timeout} with what was missing last and
     * where the node's log is.
     */
    public QuorumInfo awaitRejoined(int id, Instant restarted, Duration timeout) {
        AtomicLong highWatermark = new AtomicLong(-1);
        AtomicReference<String> missing = new AtomicReference<>("(not asked)");
        AtomicReference<QuorumInfo> last = new AtomicReference<>();
        try {
            await("node " + id + " back in the cluster and the controller quorum")
                    .atMost(timeout)
                    .pollInterval(Duration.ofMillis(250))
                    .until(() -> {
                        try {
                            missing.set(notRejoined(id, restarted.toEpochMilli(), highWatermark, last));
                        } catch (RuntimeException notYet) {
                            missing.set("cannot describe the cluster: " + notYet.getMessage());
                        }
                        return missing.get().isEmpty();
                    });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("Kafka node " + id + " has not rejoined within " + timeout + ": " + missing.get()
                    + "; its log is " + cluster.logOf(id));
        }
        return last.get();
    }

    private String notRejoined(int id, long sinceMillis, AtomicLong highWatermark, AtomicReference<QuorumInfo> last) {
        for (int other = 1; other <= brokers; other++) {
            if (other != id && isRunning(other) && !cluster.listedBy(other).contains(id)) {
                return "broker " + other + " does not list it";
            }
        }
        QuorumInfo q = quorum();
        last.set(q);
        highWatermark.compareAndSet(-1, q.highWatermark());
        if (q.leaderId() == id) {
            return "it leads the quorum (epoch " + q.leaderEpoch() + "), it does not follow";
        }
        QuorumInfo.ReplicaState v =
                q.voters().stream().filter(r -> r.replicaId() == id).findFirst().orElse(null);
        if (v == null) {
            return "it is not a voter of the quorum " + q;
        }
        String state = "log end offset " + v.logEndOffset() + ", the leader's (node " + q.leaderId() + ") "
                + logEndOf(q, q.leaderId()) + ", last fetch " + v.lastFetchTimestamp() + ", last caught up "
                + v.lastCaughtUpTimestamp() + " (restarted at " + sinceMillis + ")";
        if (v.lastFetchTimestamp().orElse(-1) < sinceMillis) {
            return "it has not fetched from the leader since its restart: " + state;
        }
        if (v.lastCaughtUpTimestamp().orElse(-1) < sinceMillis) {
            return "it has not caught up with the leader's log since its restart: " + state;
        }
        if (v.logEndOffset() < highWatermark.get()) {
            return "its log ends below the high watermark " + highWatermark.get() + ": " + state;
        }
        return "";
    }

    /**
     * How many metadata records node {@code id}'s log is behind the quorum leader's in {@code quorum}
     * (as of its last fetch); the leader's whole log if the leader has not heard from it.
     */
    public static long quorumLag(QuorumInfo quorum, int id) {
        return logEndOf(quorum, quorum.leaderId()) - Math.max(0, logEndOf(quorum, id));
    }

    /** Voter {@code id}'s metadata log end offset in {@code quorum}; -1 if the leader has not heard from it. */
    public static long logEndOf(QuorumInfo quorum, int id) {
        return quorum.voters().stream()
                .filter(r -> r.replicaId() == id)
                .mapToLong(QuorumInfo.ReplicaState::logEndOffset)
                .findFirst()
                .orElse(-1);
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
