package io.ragline.devstack.kafka;

import io.ragline.devstack.DevStackException;
import io.ragline.devstack.Ports;
import io.ragline.devstack.Progress;
import io.ragline.devstack.ServiceStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.Uuid;

/**
 * A single-node KRaft Kafka broker (combined broker and controller) under {@code .ragline/kafka},
 * run from the Maven artifacts on this JVM's class path in a JVM of its own, in its own session
 * so that a Ctrl-C in the terminal that started it does not stop it. Data survives {@link #stop()}.
 * Its PLAINTEXT listener (the address {@link #start()} returns) is on loopback; tests may add
 * listeners of other protocols ({@link #withListener}), such as SASL_SSL or mutual TLS. A cluster
 * of several such nodes is {@link LocalKafkaCluster}.
 */
public final class LocalKafka {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    /**
     * A smaller heap than {@code kafka-server-start.sh}'s 1 GiB, and the garbage collector settings
     * of Kafka's own {@code kafka-run-class.sh} ({@code KAFKA_JVM_PERFORMANCE_OPTS}), as brokers run
     * in the field. Without the 20 ms pause target (G1's default is 200 ms) this broker's young
     * collections ran 14-84 ms on two busy cores from an empty data directory, 35-140 ms once
     * earlier runs' topics had piled up; with it, 5-69 ms (docs/benchmarks.md, "Where the tail
     * comes from, row by row").
     */
    private static final List<String> JVM_OPTIONS = List.of(
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:InitiatingHeapOccupancyPercent=35",
            "-XX:+ExplicitGCInvokesConcurrent");

    private final Path dir;
    private final KafkaNode node;
    private final Progress progress;
    private final List<Listener> listeners = new ArrayList<>();

    /**
     * A listener besides the PLAINTEXT one, on {@code 127.0.0.1:port}: its name (upper case), its
     * security protocol, the port on {@code 127.0.0.1} the broker tells its clients to connect to
     * ({@code advertisedPort}: {@code port}, unless a proxy stands in front of the listener), and
     * the broker properties it needs (for example {@code
     * listener.name.secured.ssl.client.auth=required}, or the broker's key store).
     */
    public record Listener(String name, String protocol, int port, int advertisedPort, Map<String, String> properties) {
        /** A listener its clients reach on its own port. */
        public Listener(String name, String protocol, int port, Map<String, String> properties) {
            this(name, protocol, port, port, properties);
        }
    }

    public LocalKafka(Path raglineDir, Progress progress) {
        this.dir = raglineDir.resolve("kafka");
        this.node = new KafkaNode(dir);
        this.progress = progress;
    }

    /** Adds {@code listener}, written into the broker's configuration at the next {@link #start()}. */
    public LocalKafka withListener(Listener listener) {
        listeners.add(listener);
        return this;
    }

    /** Starts the broker unless it runs already; returns its bootstrap address. */
    public String start() {
        Optional<ProcessHandle> running = node.running();
        if (running.isPresent()) {
            int port = Ports.remembered(dir.resolve("port"), true);
            String bootstrap = "127.0.0.1:" + port;
            if (KafkaNode.awaitRegistered(bootstrap, 1, running.get(), Duration.ofSeconds(30))) {
                progress.step("Kafka already running on " + bootstrap);
                return bootstrap;
            }
            progress.step("Kafka process " + running.get().pid() + " does not answer; restarting it");
            node.stop(Duration.ofSeconds(30));
        }
        int port = Ports.remembered(dir.resolve("port"), false);
        int controllerPort = Ports.remembered(dir.resolve("controller-port"), false);
        KafkaNode.Settings settings = new KafkaNode.Settings(
                1, port, controllerPort, "1@127.0.0.1:" + controllerPort, 1, 1, JVM_OPTIONS, true, listeners);
        if (!node.formatted()) {
            progress.step("formatting Kafka storage in " + dir.resolve("data"));
        }
        node.prepare(settings, Uuid.randomUuid().toString());
        String bootstrap = settings.bootstrap();
        progress.step("starting Kafka " + KafkaNode.kafkaVersion() + " (KRaft) on " + bootstrap);
        ProcessHandle broker = node.launch(settings);
        if (!KafkaNode.awaitRegistered(bootstrap, 1, broker, START_TIMEOUT)) {
            throw new DevStackException("Kafka did not become ready on " + bootstrap + " within " + START_TIMEOUT
                    + "; its log is " + dir.resolve("broker.log") + ":\n" + node.tail());
        }
        return bootstrap;
    }

    /** The broker's address and whether it runs. */
    public ServiceStatus status() {
        Path portFile = dir.resolve("port");
        return new ServiceStatus(
                "kafka",
                Files.exists(portFile) ? "127.0.0.1:" + Ports.remembered(portFile, true) : "-",
                node.running().isPresent(),
                node.formatted() ? "" : "not created yet");
    }

    public void stop() {
        node.running()
                .ifPresent(p -> progress.step(
                        "stopping Kafka (pid " + p.pid() + ", data stays in " + dir.resolve("data") + ")"));
        node.stop(Duration.ofSeconds(30));
    }
}
