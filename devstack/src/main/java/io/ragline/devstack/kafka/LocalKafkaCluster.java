package io.ragline.devstack.kafka;

import io.ragline.devstack.DevStackException;
import io.ragline.devstack.Ports;
import io.ragline.devstack.Progress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;

/**
 * A KRaft cluster of {@code brokers} nodes on loopback, each a combined broker and controller in
 * a JVM of its own ({@link KafkaNode}), all of them voters of the controller quorum, each with its
 * data under {@code dir/broker-<id>}. Replicated as production clusters are: new topics and Kafka's
 * own (consumer offsets, transaction state) get {@code min(3, brokers)} copies, and {@code
 * min.insync.replicas} is 2 (1 on a cluster of fewer than three), so one broker may die without
 * stopping an {@code acks=all} producer. Brokers are numbered from 1 (their {@code node.id}); each
 * can be stopped ({@link #terminate}, SIGTERM), killed ({@link #kill}, SIGKILL) and started again
 * ({@link #restart}) on its own ports and data. A cluster started by a JVM is killed when that JVM
 * exits.
 */
public final class LocalKafkaCluster implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final int START_ATTEMPTS = 3;
    /** Small: CI runs three of these beside the dev broker on two cores. */
    private static final List<String> JVM_OPTIONS =
            List.of("-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    private final Path dir;
    private final Progress progress;
    private final List<KafkaNode> nodes;
    private final List<KafkaNode.Settings> settings = new ArrayList<>();
    private final String clusterId = Uuid.randomUuid().toString();
    private final boolean detached;
    private Thread killOnExit;

    /** A cluster of this JVM's: killed when it exits (the test kit's {@code KafkaCluster}). */
    public LocalKafkaCluster(Path dir, int brokers, Progress progress) {
        this(dir, brokers, progress, false);
    }

    /**
     * @param detached whether the brokers outlive this JVM, each in a session of its own, as {@code
     *     ragline dev up --kafka-brokers N} runs them; either way the ports are recorded in {@code
     *     dir/ports} at the first start, so that a cluster another JVM started is found, stopped and
     *     restarted broker by broker on the same ports and data
     */
    public LocalKafkaCluster(Path dir, int brokers, Progress progress, boolean detached) {
        if (brokers < 1) {
            throw new IllegalArgumentException("a cluster needs at least one broker, not " + brokers);
        }
        this.dir = dir.toAbsolutePath();
        this.progress = progress;
        this.detached = detached;
        this.nodes = IntStream.rangeClosed(1, brokers)
                .mapToObj(id -> new KafkaNode(this.dir.resolve("broker-" + id)))
                .toList();
        List<int[]> recorded = ClusterPorts.read(portsFile());
        if (!recorded.isEmpty()) {
            if (recorded.size() != brokers) {
                throw new DevStackException("the Kafka cluster in " + this.dir + " has " + recorded.size()
                        + " brokers, not " + brokers + ": delete that directory (its data) to make one of " + brokers);
            }
            settings.addAll(settingsFor(recorded));
        }
    }

    /** The number of brokers of the cluster whose ports {@code dir} records, 0 if none was started there. */
    public static int recordedBrokers(Path dir) {
        return ClusterPorts.read(dir.toAbsolutePath().resolve("ports")).size();
    }

    /** How many of the brokers run now. */
    public int runningBrokers() {
        return (int) nodes.stream().filter(n -> n.running().isPresent()).count();
    }

    /** Replication factor of new topics and of Kafka's own topics. */
    public int replicationFactor() {
        return Math.min(3, nodes.size());
    }

    /** {@code min.insync.replicas} of every topic (and the transaction state). */
    public int minInsyncReplicas() {
        return replicationFactor() >= 3 ? 2 : 1;
    }

    public int brokers() {
        return nodes.size();
    }

    /**
     * Starts every broker, and returns once all of them answer as one cluster: {@link
     * #bootstrapServers()}. A first start that fails (a port taken between its choice and the
     * broker's bind, on a busy machine) is tried again from scratch on other ports, twice; data a
     * cluster kept from before is never deleted.
     */
    public synchronized String start() {
        boolean fresh = settings.isEmpty() && nodes.stream().noneMatch(KafkaNode::formatted);
        for (int attempt = 1; ; attempt++) {
            try {
                return startOnce();
            } catch (DevStackException e) {
                if (!fresh || attempt == START_ATTEMPTS) {
                    throw e;
                }
                progress.step("the cluster did not start ("
                        + e.getMessage().lines().findFirst().orElse("") + "); starting it afresh on other ports");
                nodes.forEach(KafkaNode::kill);
                nodes.forEach(KafkaNode::deleteData);
                settings.clear();
                ClusterPorts.delete(portsFile());
            }
        }
    }

    private String startOnce() {
        if (settings.isEmpty()) {
            List<int[]> ports = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
                ports.add(new int[] {Ports.freeBelowEphemeral(), Ports.freeBelowEphemeral()});
            }
            settings.addAll(settingsFor(ports));
            ClusterPorts.write(portsFile(), ports);
        }
        if (killOnExit == null && !detached) {
            killOnExit = new Thread(this::killAll, "kafka-cluster-kill-on-exit");
            Runtime.getRuntime().addShutdownHook(killOnExit);
        }
        if (nodes.stream().allMatch(n -> n.running().isPresent())) {
            progress.step("Kafka cluster of " + nodes.size() + " brokers already running on " + bootstrapServers());
        } else {
            progress.step("starting a Kafka " + KafkaNode.kafkaVersion() + " cluster of " + nodes.size()
                    + " brokers (KRaft) on " + bootstrapServers() + ", data in " + dir);
        }
        // Formatting is a JVM per node: all at once.
        List<CompletableFuture<ProcessHandle>> starting = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            KafkaNode n = nodes.get(i);
            KafkaNode.Settings s = settings.get(i);
            starting.add(n.running()
                    .map(CompletableFuture::completedFuture)
                    .orElseGet(() -> CompletableFuture.supplyAsync(() -> {
                        n.prepare(s, clusterId);
                        return n.launch(s);
                    })));
        }
        List<ProcessHandle> launched =
                starting.stream().map(CompletableFuture::join).toList();
        // A node answers only once a majority of the quorum runs: all are launched before any is awaited.
        for (int i = 0; i < nodes.size(); i++) {
            awaitBroker(i + 1, launched.get(i));
        }
        return bootstrapServers();
    }

    private List<KafkaNode.Settings> settingsFor(List<int[]> ports) {
        String voters = IntStream.range(0, ports.size())
                .mapToObj(i -> (i + 1) + "@127.0.0.1:" + ports.get(i)[1])
                .collect(Collectors.joining(","));
        return IntStream.range(0, ports.size())
                .mapToObj(i -> new KafkaNode.Settings(
                        i + 1,
                        ports.get(i)[0],
                        ports.get(i)[1],
                        voters,
                        replicationFactor(),
                        minInsyncReplicas(),
                        JVM_OPTIONS,
                        detached,
                        List.of()))
                .toList();
    }

    private Path portsFile() {
        return dir.resolve("ports");
    }

    /** Every broker's PLAINTEXT address, whether it runs or not: clients find the ones that do. */
    public String bootstrapServers() {
        return settings.stream().map(KafkaNode.Settings::bootstrap).collect(Collectors.joining(","));
    }

    /** The PLAINTEXT address of broker {@code id} alone. */
    public String bootstrapOf(int id) {
        return settingsOf(id).bootstrap();
    }

    public boolean isRunning(int id) {
        return node(id).running().isPresent();
    }

    /** SIGTERM to broker {@code id}: a controlled shutdown (leadership moves first); waits until it exited. */
    public void terminate(int id) {
        progress.step("stopping Kafka broker " + id + " (SIGTERM)");
        node(id).stop(Duration.ofSeconds(60));
    }

    /** SIGKILL to broker {@code id}, as a crash; waits until it is gone. */
    public void kill(int id) {
        progress.step("killing Kafka broker " + id + " (SIGKILL)");
        node(id).kill();
    }

    /** Starts broker {@code id} again on its ports and data; returns once the cluster lists it. */
    public void restart(int id) {
        if (isRunning(id)) {
            throw new IllegalStateException("Kafka broker " + id + " runs already");
        }
        progress.step("restarting Kafka broker " + id);
        KafkaNode.Settings s = settingsOf(id);
        node(id).prepare(s, clusterId);
        awaitBroker(id, node(id).launch(s));
    }

    /**
     * Until every partition of every topic (Kafka's own included) has a leader and all its replicas
     * in sync: after a restart, until the broker caught up.
     */
    public void awaitFullIsr(Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        String lagging = "(not asked)";
        try (Admin admin = KafkaNode.admin(bootstrapServers())) {
            while (Instant.now().isBefore(deadline)) {
                try {
                    lagging = underReplicated(admin);
                    if (lagging.isEmpty()) {
                        return;
                    }
                } catch (Exception notYet) {
                    lagging = "cannot describe the topics: " + notYet;
                }
                pause();
            }
        }
        throw new DevStackException("partitions not fully in sync after " + timeout + ": " + lagging);
    }

    private static String underReplicated(Admin admin) throws Exception {
        Collection<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true))
                .names()
                .get(5, TimeUnit.SECONDS);
        Map<String, TopicDescription> described =
                admin.describeTopics(topics).allTopicNames().get(10, TimeUnit.SECONDS);
        List<String> lagging = new ArrayList<>();
        described.values().forEach(d -> {
            for (TopicPartitionInfo p : d.partitions()) {
                if (p.leader() == null || p.isr().size() < p.replicas().size()) {
                    lagging.add(d.name() + "-" + p.partition() + " (isr " + ids(p.isr()) + " of " + ids(p.replicas())
                            + ")");
                }
            }
        });
        return lagging.stream().sorted().limit(10).collect(Collectors.joining(", "));
    }

    private static String ids(List<Node> nodes) {
        return nodes.stream().map(n -> String.valueOf(n.id())).collect(Collectors.joining(",", "[", "]"));
    }

    /** The node that is the active controller of the quorum now (every node is a voter). */
    public int activeController() {
        return quorum().leaderId();
    }

    /**
     * The controller quorum as its active controller describes it now: its leader and epoch, the
     * metadata log's high watermark, and each voter's log end offset and last fetch and catch-up
     * times (on the leader's clock, this machine's).
     */
    public QuorumInfo quorum() {
        try (Admin admin = KafkaNode.admin(bootstrapServers())) {
            return admin.describeMetadataQuorum().quorumInfo().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new DevStackException("cannot describe the controller quorum: " + e.getMessage(), e);
        }
    }

    /** The brokers that broker {@code asked} lists as the cluster's now (registered and not fenced). */
    public Set<Integer> listedBy(int asked) {
        try (Admin admin = KafkaNode.admin(bootstrapOf(asked))) {
            return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).stream()
                    .map(Node::id)
                    .collect(Collectors.toSet());
        } catch (Exception e) {
            throw new DevStackException("cannot describe the cluster to broker " + asked + ": " + e.getMessage(), e);
        }
    }

    /** Broker {@code id}'s log (its own messages and KRaft's, appended across restarts). */
    public Path logOf(int id) {
        return node(id).dir().resolve("broker.log");
    }

    /** The broker that leads {@code topic}'s {@code partition} now, if one does. */
    public Optional<Integer> leaderOf(String topic, int partition) {
        try (Admin admin = KafkaNode.admin(bootstrapServers())) {
            TopicPartitionInfo p = admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(10, TimeUnit.SECONDS)
                    .get(topic)
                    .partitions()
                    .get(partition);
            return Optional.ofNullable(p.leader()).map(Node::id);
        } catch (Exception e) {
            throw new DevStackException("cannot describe " + topic + ": " + e.getMessage(), e);
        }
    }

    /** SIGTERM to every broker at once (SIGKILL to one that does not exit within 30 s). Data stays. */
    @Override
    public synchronized void close() {
        // All at once: stopped one after the other, the last ones would wait for a controller
        // quorum that is gone before giving up their controlled shutdown.
        nodes.stream()
                .map(n -> CompletableFuture.runAsync(() -> n.stop(Duration.ofSeconds(30))))
                .toList()
                .forEach(CompletableFuture::join);
        if (killOnExit != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(killOnExit);
            } catch (IllegalStateException exiting) {
                // the hook runs or ran
            }
            killOnExit = null;
        }
    }

    private void killAll() {
        nodes.forEach(n -> n.running().ifPresent(ProcessHandle::destroyForcibly));
    }

    private void awaitBroker(int id, ProcessHandle process) {
        if (!KafkaNode.awaitRegistered(bootstrapOf(id), id, process, START_TIMEOUT)) {
            throw new DevStackException("Kafka broker " + id + " did not join the cluster within " + START_TIMEOUT
                    + "; its log is " + logOf(id) + ":\n" + node(id).tail());
        }
    }

    private KafkaNode node(int id) {
        checkId(id);
        return nodes.get(id - 1);
    }

    private KafkaNode.Settings settingsOf(int id) {
        checkId(id);
        if (settings.isEmpty()) {
            throw new IllegalStateException("the cluster was never started");
        }
        return settings.get(id - 1);
    }

    private void checkId(int id) {
        if (id < 1 || id > nodes.size()) {
            throw new IllegalArgumentException("no broker " + id + ": brokers are numbered 1 to " + nodes.size());
        }
    }

    private static void pause() {
        try {
            Thread.sleep(250);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DevStackException("interrupted while waiting for the Kafka cluster", e);
        }
    }
}
