package io.ragline.devstack.kafka;

import io.ragline.devstack.Command;
import io.ragline.devstack.DevStackException;
import io.ragline.devstack.JavaClasspath;
import io.ragline.devstack.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * One KRaft node (combined broker and controller) in a directory of its own: its {@code
 * server.properties}, its data under {@code data/}, its log {@code broker.log}, and a {@code pid}
 * file naming its JVM (run from the Maven artifacts on this JVM's class path). The one home of how
 * Ragline's development and test brokers are configured, formatted, started and stopped: {@link
 * LocalKafka} runs one, {@link LocalKafkaCluster} several.
 */
final class KafkaNode {
    /**
     * How a node is run.
     *
     * @param nodeId its {@code node.id}
     * @param port its PLAINTEXT listener on loopback (clients and inter-broker traffic)
     * @param controllerPort its CONTROLLER listener on loopback
     * @param voters {@code controller.quorum.voters}: {@code id@host:port} of every controller
     * @param replication replication factor of new topics and of Kafka's own topics
     * @param minInsync {@code min.insync.replicas}, also of the transaction state topic
     * @param jvmOptions heap and GC options of the node's JVM
     * @param detached in a session of its own ({@code setsid}): a Ctrl-C in the terminal that started
     *     it does not stop it
     * @param listeners listeners besides the PLAINTEXT one
     */
    record Settings(
            int nodeId,
            int port,
            int controllerPort,
            String voters,
            int replication,
            int minInsync,
            List<String> jvmOptions,
            boolean detached,
            List<LocalKafka.Listener> listeners) {
        Settings {
            if (minInsync < 1 || minInsync > replication) {
                throw new IllegalArgumentException(
                        "min.insync.replicas " + minInsync + " must be between 1 and the replication " + replication);
            }
            jvmOptions = List.copyOf(jvmOptions);
            listeners = List.copyOf(listeners);
        }

        String bootstrap() {
            return "127.0.0.1:" + port;
        }
    }

    private final Path dir;

    KafkaNode(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    /** Writes {@code server.properties} and formats the data directory unless it was formatted. */
    void prepare(Settings settings, String clusterId) {
        try {
            Files.createDirectories(dir.resolve("data"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path config = writeConfig(settings);
        if (!formatted()) {
            Command.of(java(
                            List.of("-Xmx256m"),
                            "kafka.tools.StorageTool",
                            "format",
                            "-t",
                            clusterId,
                            "-c",
                            config.toString(),
                            "--ignore-formatted"))
                    .timeout(Duration.ofMinutes(2))
                    .run();
        }
    }

    /** Starts the node's JVM with the configuration {@link #prepare} wrote; returns at once. */
    ProcessHandle launch(Settings settings) {
        List<String> argv = new ArrayList<>();
        if (settings.detached() && Command.onPath("setsid")) {
            argv.add("setsid");
        }
        List<String> options = new ArrayList<>(settings.jvmOptions());
        options.add("-Djava.awt.headless=true");
        options.add("-Dlogback.configurationFile=" + writeLogbackConfig());
        argv.addAll(
                java(options, "kafka.Kafka", dir.resolve("server.properties").toString()));
        try {
            Path log = dir.resolve("broker.log");
            Process p = new ProcessBuilder(argv)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            // setsid execs in place, so the pid is the broker's own. Its start time goes with it,
            // so that a recycled pid (after a reboot) is never taken for the broker.
            Files.writeString(dir.resolve("pid"), p.pid() + " " + startOf(p.toHandle()) + "\n");
            return p.toHandle();
        } catch (IOException e) {
            throw new DevStackException("cannot start the Kafka broker in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The node's JVM if the pid file names one that runs. */
    Optional<ProcessHandle> running() {
        Path pidFile = dir.resolve("pid");
        if (!Files.exists(pidFile)) {
            return Optional.empty();
        }
        try {
            String[] fields = Files.readString(pidFile).strip().split("\\s+");
            long pid = Long.parseLong(fields[0]);
            String started = fields.length > 1 ? fields[1] : "";
            return ProcessHandle.of(pid)
                    .filter(ProcessHandle::isAlive)
                    .filter(p -> !started.isEmpty() && started.equals(startOf(p)));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * SIGTERM (a controlled shutdown: the node hands its partitions' leadership over first), then
     * SIGKILL if it has not exited within {@code grace}. Data stays.
     */
    void stop(Duration grace) {
        running().ifPresent(p -> {
            p.destroy();
            try {
                p.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
                awaitExit(p);
            }
        });
        deletePidFile();
    }

    /** SIGKILL, as a crash or an OOM killer would: no controlled shutdown, no flush. Data stays. */
    void kill() {
        running().ifPresent(p -> {
            p.destroyForcibly();
            awaitExit(p);
        });
        deletePidFile();
    }

    /** Whether the node's data directory was formatted (it holds a cluster's data). */
    boolean formatted() {
        return Files.exists(dir.resolve("data/meta.properties"));
    }

    /** Deletes the node's data (it must not run): it is formatted again at the next {@link #prepare}. */
    void deleteData() {
        Path data = dir.resolve("data");
        if (!Files.exists(data)) {
            return;
        }
        try (var files = Files.walk(data)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + data, e);
        }
    }

    private static void awaitExit(ProcessHandle p) {
        try {
            p.onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new DevStackException("Kafka process " + p.pid() + " did not exit after SIGKILL", e);
        }
    }

    private void deletePidFile() {
        try {
            Files.deleteIfExists(dir.resolve("pid"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Until the broker on {@code bootstrap} answers and counts node {@code nodeId} (itself) among the
     * cluster's live brokers (registered with the controller quorum, not fenced); false if {@code
     * broker} exits first or {@code timeout} passes.
     */
    static boolean awaitRegistered(String bootstrap, int nodeId, ProcessHandle broker, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        // Wait for the listener first: an admin client against a closed port logs a warning per retry.
        while (!Ports.accepts(port)) {
            if (!broker.isAlive() || Instant.now().isAfter(deadline)) {
                return false;
            }
            if (!pause(200)) {
                return false;
            }
        }
        try (Admin admin = admin(bootstrap)) {
            while (Instant.now().isBefore(deadline)) {
                if (!broker.isAlive()) {
                    return false;
                }
                try {
                    if (admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).stream()
                            .anyMatch(n -> n.id() == nodeId)) {
                        return true;
                    }
                } catch (Exception notYet) {
                    // asked again below
                }
                if (!pause(300)) {
                    return false;
                }
            }
            return false;
        }
    }

    static Admin admin(String bootstrap) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
        return Admin.create(props);
    }

    private static boolean pause(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String startOf(ProcessHandle p) {
        return p.info().startInstant().map(Object::toString).orElse("");
    }

    private Path writeConfig(Settings s) {
        StringBuilder listenersLine = new StringBuilder("PLAINTEXT://127.0.0.1:" + s.port());
        StringBuilder advertisedLine = new StringBuilder(listenersLine);
        StringBuilder protocols = new StringBuilder("PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        StringBuilder extra = new StringBuilder();
        for (LocalKafka.Listener l : s.listeners()) {
            listenersLine.append(',').append(l.name()).append("://127.0.0.1:").append(l.port());
            advertisedLine.append(',').append(l.name()).append("://127.0.0.1:").append(l.advertisedPort());
            protocols.append(',').append(l.name()).append(':').append(l.protocol());
            new TreeMap<>(l.properties())
                    .forEach((k, v) -> extra.append(k).append('=').append(v).append('\n'));
        }
        int replication = s.replication();
        String text = String.join(
                "\n",
                "# Written by Ragline's devstack: node " + s.nodeId()
                        + " of a KRaft cluster for development and tests.",
                "process.roles=broker,controller",
                "node.id=" + s.nodeId(),
                "controller.quorum.voters=" + s.voters(),
                "listeners=" + listenersLine + ",CONTROLLER://127.0.0.1:" + s.controllerPort(),
                "advertised.listeners=" + advertisedLine,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=" + protocols,
                "log.dirs=" + dir.resolve("data"),
                "num.partitions=3",
                "auto.create.topics.enable=true",
                "default.replication.factor=" + replication,
                "min.insync.replicas=" + s.minInsync(),
                "unclean.leader.election.enable=false",
                "offsets.topic.replication.factor=" + replication,
                "offsets.topic.num.partitions=10",
                "transaction.state.log.replication.factor=" + replication,
                "transaction.state.log.min.isr=" + s.minInsync(),
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=" + replication,
                "share.coordinator.state.topic.min.isr=" + s.minInsync(),
                "group.initial.rebalance.delay.ms=0",
                "log.retention.hours=24",
                // The log cleaner (of compacted topics: consumer offsets, transaction state) takes
                // this from the heap at start-up; Kafka's 128 MiB does not fit a 256 MiB test broker.
                "log.cleaner.dedupe.buffer.size=33554432",
                "log.segment.bytes=67108864",
                extra.toString());
        Path file = dir.resolve("server.properties");
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /**
     * Warnings, and the node's start, its KRaft quorum transitions (elections, epochs, the leader it
     * follows) and its controller's activation, broker registrations and fencing, not a line per
     * partition: a node that does not rejoin its cluster is diagnosed from its log.
     */
    private Path writeLogbackConfig() {
        Path file = dir.resolve("logback.xml");
        String xml = """
                <configuration>
                  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%d{ISO8601} %-5level %logger{30} - %msg%n</pattern></encoder>
                  </appender>
                  <logger name="kafka.server.KafkaRaftServer" level="INFO"/>
                  <logger name="kafka.server.BrokerServer" level="INFO"/>
                  <logger name="org.apache.kafka.raft" level="INFO"/>
                  <logger name="org.apache.kafka.controller" level="INFO"/>
                  <logger name="org.apache.kafka.controller.ReplicationControlManager" level="WARN"/>
                  <logger name="org.apache.kafka.controller.EventPerformanceMonitor" level="WARN"/>
                  <root level="WARN"><appender-ref ref="OUT"/></root>
                </configuration>
                """;
        try {
            Files.writeString(file, xml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** A command line for a JVM with this JVM's class path: {@code jvmOptions}, then main class and arguments. */
    private static List<String> java(List<String> jvmOptions, String mainClass, String... args) {
        String javaBin = ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> argv = new ArrayList<>();
        argv.add(javaBin);
        argv.addAll(jvmOptions);
        argv.addAll(List.of("-cp", JavaClasspath.current(), mainClass));
        argv.addAll(List.of(args));
        return argv;
    }

    static String kafkaVersion() {
        return org.apache.kafka.common.utils.AppInfoParser.getVersion();
    }

    /** The last 30 lines of the node's log, for an error message. */
    String tail() {
        Path log = dir.resolve("broker.log");
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
