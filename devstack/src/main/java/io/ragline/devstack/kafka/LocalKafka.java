package io.ragline.devstack.kafka;

import io.ragline.devstack.Command;
import io.ragline.devstack.DevStackException;
import io.ragline.devstack.JavaClasspath;
import io.ragline.devstack.Ports;
import io.ragline.devstack.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * A single-node KRaft Kafka broker (combined broker and controller) under {@code .ragline/kafka},
 * run from the Maven artifacts on this JVM's class path in a JVM of its own, in its own session
 * so that a Ctrl-C in the terminal that started it does not stop it. Data survives {@link #stop()}.
 * Its PLAINTEXT listener (the address {@link #start()} returns) is on loopback; tests may add
 * listeners of other protocols ({@link #withListener}), such as SASL_SSL or mutual TLS.
 */
public final class LocalKafka {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Path dir;
    private final Progress progress;
    private final List<Listener> listeners = new ArrayList<>();

    /**
     * A listener besides the PLAINTEXT one, on {@code 127.0.0.1:port}: its name (upper case), its
     * security protocol, and the broker properties it needs (for example {@code
     * listener.name.secured.ssl.client.auth=required}, or the broker's key store).
     */
    public record Listener(String name, String protocol, int port, Map<String, String> properties) {}

    public LocalKafka(Path raglineDir, Progress progress) {
        this.dir = raglineDir.resolve("kafka");
        this.progress = progress;
    }

    /** Adds {@code listener}, written into the broker's configuration at the next {@link #start()}. */
    public LocalKafka withListener(Listener listener) {
        listeners.add(listener);
        return this;
    }

    /** Starts the broker unless it runs already; returns its bootstrap address. */
    public String start() {
        Optional<ProcessHandle> running = runningBroker();
        if (running.isPresent()) {
            int port = Ports.remembered(dir.resolve("port"), true);
            String bootstrap = "127.0.0.1:" + port;
            if (awaitReady(bootstrap, running.get(), Duration.ofSeconds(30))) {
                progress.step("Kafka already running on " + bootstrap);
                return bootstrap;
            }
            progress.step("Kafka process " + running.get().pid() + " does not answer; restarting it");
            stopProcess(running.get());
        }
        try {
            Files.createDirectories(dir.resolve("data"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int port = Ports.remembered(dir.resolve("port"), false);
        int controllerPort = Ports.remembered(dir.resolve("controller-port"), false);
        Path config = writeConfig(port, controllerPort);
        if (!Files.exists(dir.resolve("data/meta.properties"))) {
            progress.step("formatting Kafka storage in " + dir.resolve("data"));
            Command.of(java(
                            List.of("-Xmx256m"),
                            "kafka.tools.StorageTool",
                            "format",
                            "-t",
                            Uuid.randomUuid().toString(),
                            "-c",
                            config.toString(),
                            "--ignore-formatted"))
                    .timeout(Duration.ofMinutes(2))
                    .run();
        }
        String bootstrap = "127.0.0.1:" + port;
        progress.step("starting Kafka " + kafkaVersion() + " (KRaft) on " + bootstrap);
        ProcessHandle broker = launch(config);
        if (!awaitReady(bootstrap, broker, START_TIMEOUT)) {
            throw new DevStackException("Kafka did not become ready on " + bootstrap + " within " + START_TIMEOUT
                    + "; its log is " + dir.resolve("broker.log") + ":\n" + tail(dir.resolve("broker.log")));
        }
        return bootstrap;
    }

    public void stop() {
        runningBroker().ifPresent(p -> {
            progress.step("stopping Kafka (pid " + p.pid() + ", data stays in " + dir.resolve("data") + ")");
            stopProcess(p);
        });
        try {
            Files.deleteIfExists(dir.resolve("pid"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ProcessHandle launch(Path config) {
        List<String> argv = new ArrayList<>();
        if (Command.onPath("setsid")) {
            argv.add("setsid");
        }
        argv.addAll(java(
                List.of(
                        "-Xms256m",
                        "-Xmx768m",
                        "-XX:+UseG1GC",
                        "-Djava.awt.headless=true",
                        "-Dlogback.configurationFile=" + writeLogbackConfig()),
                "kafka.Kafka",
                config.toString()));
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
            throw new DevStackException("cannot start the Kafka broker: " + e.getMessage(), e);
        }
    }

    private boolean awaitReady(String bootstrap, ProcessHandle broker, Duration timeout) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
        Instant deadline = Instant.now().plus(timeout);
        int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        // Wait for the listener first: an admin client against a closed port logs a warning per retry.
        while (!Ports.accepts(port)) {
            if (!broker.isAlive() || Instant.now().isAfter(deadline)) {
                return false;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        try (Admin admin = Admin.create(props)) {
            while (Instant.now().isBefore(deadline)) {
                if (!broker.isAlive()) {
                    return false;
                }
                try {
                    if (!admin.describeCluster()
                            .nodes()
                            .get(5, TimeUnit.SECONDS)
                            .isEmpty()) {
                        return true;
                    }
                } catch (Exception notYet) {
                    Thread.sleep(300);
                }
            }
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private Optional<ProcessHandle> runningBroker() {
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

    private static String startOf(ProcessHandle p) {
        return p.info().startInstant().map(Object::toString).orElse("");
    }

    private static void stopProcess(ProcessHandle p) {
        p.destroy();
        try {
            p.onExit().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
        }
    }

    private Path writeConfig(int port, int controllerPort) {
        StringBuilder listenersLine = new StringBuilder("PLAINTEXT://127.0.0.1:" + port);
        StringBuilder protocols = new StringBuilder("PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        StringBuilder extra = new StringBuilder();
        for (Listener l : listeners) {
            listenersLine.append(',').append(l.name()).append("://127.0.0.1:").append(l.port());
            protocols.append(',').append(l.name()).append(':').append(l.protocol());
            new TreeMap<>(l.properties())
                    .forEach((k, v) -> extra.append(k).append('=').append(v).append('\n'));
        }
        String text = String.join(
                "\n",
                "# Written by ragline dev up: a single-node KRaft broker for development and tests.",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=" + listenersLine + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=" + listenersLine,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=" + protocols,
                "log.dirs=" + dir.resolve("data"),
                "num.partitions=3",
                "auto.create.topics.enable=true",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=10",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "log.retention.hours=24",
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

    private Path writeLogbackConfig() {
        Path file = dir.resolve("logback.xml");
        String xml = """
                <configuration>
                  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%d{ISO8601} %-5level %logger{30} - %msg%n</pattern></encoder>
                  </appender>
                  <logger name="kafka.server.KafkaRaftServer" level="INFO"/>
                  <logger name="kafka.server.BrokerServer" level="INFO"/>
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

    private static String kafkaVersion() {
        return org.apache.kafka.common.utils.AppInfoParser.getVersion();
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
