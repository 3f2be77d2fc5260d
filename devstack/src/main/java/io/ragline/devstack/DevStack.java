package io.ragline.devstack;

import io.ragline.devstack.docker.DockerCompose;
import io.ragline.devstack.kafka.LocalKafka;
import io.ragline.devstack.kafka.LocalKafkaCluster;
import io.ragline.devstack.postgres.LocalPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The services Ragline needs, provided the least surprising way: addresses given in the
 * environment are used as they are; otherwise Docker Compose where a Docker engine runs;
 * otherwise local processes (a private PostgreSQL cluster and a KRaft broker) under
 * {@code .ragline/}. {@link #up()} is idempotent and writes {@code .ragline/dev.env}. In a {@link
 * DevShape} of its own it runs a Kafka cluster of several brokers ({@link LocalKafkaCluster}, each
 * stoppable: {@link #kafkaBroker}) and a PostgreSQL primary with a synchronous standby ({@link
 * #promotePostgresStandby()}), as local processes only.
 */
public final class DevStack {
    /** {@code auto} (default), {@code local} or {@code docker}. */
    public static final String MODE_VARIABLE = "RAGLINE_DEV_MODE";

    private final Path home;
    private final Path dir;
    private final Map<String, String> env;
    private final Progress progress;

    public DevStack(Path home, Map<String, String> env, Progress progress) {
        this.home = home.toAbsolutePath().normalize();
        this.dir = this.home.resolve(".ragline");
        this.env = Map.copyOf(env);
        this.progress = Objects.requireNonNull(progress);
    }

    public Path envFile() {
        return dir.resolve("dev.env");
    }

    /** {@link #up(DevShape)} in the shape the last {@code dev up} that chose one chose, else the default. */
    public DevServices up() {
        return locked(() -> upLocked(DevShape.read(shapeFile())));
    }

    /**
     * Brings the services to {@code shape} and returns their addresses: starts what does not run,
     * stops what another shape left running (its data stays), records the shape for the next call.
     */
    public DevServices up(DevShape shape) {
        return locked(() -> upLocked(shape));
    }

    /** The shape recorded by the last {@code dev up}: what runs here, or ran before {@code dev down}. */
    public DevShape shape() {
        return DevShape.read(shapeFile());
    }

    private DevServices upLocked(DevShape shape) {
        // Values that are our own dev.env sourced into the shell were not given by the user:
        // dev up still manages (and dev down still stops) those services.
        Map<String, String> ours = DevEnvFile.read(envFile());
        String databaseUrl = given(DevServices.DATABASE_URL, ours);
        String kafka = given(DevServices.KAFKA_BOOTSTRAP_SERVERS, ours);
        refuseGiven(shape, databaseUrl, kafka);
        List<String> started = new ArrayList<>(readState());
        if (databaseUrl == null || kafka == null) {
            boolean docker = useDocker(shape);
            shape.write(shapeFile());
            if (docker) {
                List<String> services = new ArrayList<>();
                if (databaseUrl == null) {
                    services.add(DockerCompose.POSTGRES);
                }
                if (kafka == null) {
                    services.add(DockerCompose.KAFKA);
                }
                remember(started, "docker");
                Map<String, String> addresses = new DockerCompose(home, progress).up(services);
                databaseUrl = addresses.getOrDefault(DevServices.DATABASE_URL, databaseUrl);
                kafka = addresses.getOrDefault(DevServices.KAFKA_BOOTSTRAP_SERVERS, kafka);
            } else {
                // Recorded before starting, so that dev down also stops a half-finished dev up.
                if (databaseUrl == null) {
                    remember(started, "postgres");
                    databaseUrl = localPostgres().start(shape.postgresStandby());
                }
                if (kafka == null) {
                    kafka = startKafka(shape.kafkaBrokers(), started);
                }
            }
        }
        DevServices services = new DevServices(databaseUrl, kafka);
        DevEnvFile.write(envFile(), services.asEnv());
        return services;
    }

    private static void refuseGiven(DevShape shape, String databaseUrl, String kafka) {
        List<String> problems = new ArrayList<>();
        if (databaseUrl != null && shape.postgresStandby()) {
            problems.add("a PostgreSQL standby is started with a local primary, but DATABASE_URL is given");
        }
        if (kafka != null && shape.kafkaBrokers() > 1) {
            problems.add("a Kafka cluster is started locally, but KAFKA_BOOTSTRAP_SERVERS is given");
        }
        if (!problems.isEmpty()) {
            throw new DevStackException(String.join("; ", problems) + ": unset it, or leave the option out");
        }
    }

    /** One broker ({@link LocalKafka}) or a cluster ({@link LocalKafkaCluster}); the other one stopped. */
    private String startKafka(int brokers, List<String> started) {
        if (brokers == 1) {
            stopKafkaCluster();
            remember(started, "kafka");
            return new LocalKafka(dir, progress).start();
        }
        new LocalKafka(dir, progress).stop();
        remember(started, "kafka-cluster");
        return new LocalKafkaCluster(kafkaClusterDir(), brokers, progress, true).start();
    }

    private void stopKafkaCluster() {
        int recorded = LocalKafkaCluster.recordedBrokers(kafkaClusterDir());
        if (recorded > 0) {
            LocalKafkaCluster cluster = new LocalKafkaCluster(kafkaClusterDir(), recorded, progress, true);
            if (cluster.runningBrokers() > 0) {
                progress.step("stopping the Kafka cluster (data stays in " + kafkaClusterDir() + ")");
            }
            cluster.close();
        }
    }

    /** Stops what {@link #up()} started; data stays under {@code .ragline/}. */
    public void down() {
        locked(() -> {
            List<String> started = readState();
            if (started.contains("docker")) {
                new DockerCompose(home, progress).down();
            }
            if (started.contains("kafka")) {
                new LocalKafka(dir, progress).stop();
            }
            if (started.contains("kafka-cluster")) {
                stopKafkaCluster();
            }
            if (started.contains("postgres")) {
                localPostgres().stop();
            }
            if (started.isEmpty()) {
                progress.step("nothing to stop: dev up started no service here");
            }
            writeState(List.of());
            return null;
        });
    }

    /**
     * The processes of the recorded shape, whether they run or not: what {@code dev status} shows.
     * Services given in the environment or run by Docker Compose are not among them.
     */
    public List<ServiceStatus> status() {
        return locked(() -> {
            if (readState().contains("docker")) {
                throw new DevStackException(
                        "dev up started the services with Docker Compose here: `docker compose ps` shows them");
            }
            List<ServiceStatus> services = new ArrayList<>();
            DevShape shape = shape();
            services.addAll(localPostgres().status());
            int brokers = LocalKafkaCluster.recordedBrokers(kafkaClusterDir());
            if (shape.kafkaBrokers() > 1 && brokers > 0) {
                LocalKafkaCluster cluster = new LocalKafkaCluster(kafkaClusterDir(), brokers, progress, true);
                for (int id = 1; id <= brokers; id++) {
                    services.add(new ServiceStatus(
                            "kafka broker " + id, cluster.bootstrapOf(id), cluster.isRunning(id), ""));
                }
            } else {
                services.add(new LocalKafka(dir, progress).status());
            }
            return services;
        });
    }

    /** What {@link #kafkaBroker} does to one broker of the cluster. */
    public enum BrokerAction {
        /** SIGTERM: a controlled shutdown, leadership moved first. */
        STOP,
        /** SIGKILL, as a crash. */
        KILL,
        /** Started again on its ports and data; returns once the cluster lists it. */
        START
    }

    /** Stops, kills or starts broker {@code id} (from 1) of the cluster {@code dev up --kafka-brokers N} runs. */
    public void kafkaBroker(int id, BrokerAction action) {
        locked(() -> {
            int brokers = LocalKafkaCluster.recordedBrokers(kafkaClusterDir());
            if (shape().kafkaBrokers() == 1 || brokers == 0) {
                throw new DevStackException("Kafka runs here as a single broker, if at all: `ragline dev up"
                        + " --kafka-brokers 3` runs a cluster whose brokers stop and start one by one");
            }
            if (id < 1 || id > brokers) {
                throw new DevStackException("no Kafka broker " + id + ": the brokers are numbered 1 to " + brokers);
            }
            LocalKafkaCluster cluster = new LocalKafkaCluster(kafkaClusterDir(), brokers, progress, true);
            boolean running = cluster.isRunning(id);
            switch (action) {
                case STOP, KILL -> {
                    if (!running) {
                        progress.step("Kafka broker " + id + " is not running");
                    } else if (action == BrokerAction.STOP) {
                        cluster.terminate(id);
                    } else {
                        cluster.kill(id);
                    }
                }
                case START -> {
                    if (running) {
                        progress.step("Kafka broker " + id + " already running on " + cluster.bootstrapOf(id));
                    } else {
                        cluster.restart(id);
                    }
                }
            }
            return null;
        });
    }

    /**
     * Fails PostgreSQL over: stops the primary as a crash would and promotes the standby {@code dev
     * up --postgres-standby} runs. The URL in {@code dev.env} names both, so clients follow.
     */
    public void promotePostgresStandby() {
        locked(() -> {
            if (!shape().postgresStandby() || !readState().contains("postgres")) {
                throw new DevStackException("PostgreSQL runs here without a standby, if at all: start one with"
                        + " `ragline dev up --postgres-standby`");
            }
            localPostgres().promoteStandby();
            return null;
        });
    }

    private LocalPostgres localPostgres() {
        return new LocalPostgres(dir, progress, Privilege.detect());
    }

    private Path kafkaClusterDir() {
        return dir.resolve("kafka-cluster");
    }

    private Path shapeFile() {
        return dir.resolve("shape");
    }

    /** Docker for the default shape where it runs; the scaled services are local processes. */
    private boolean useDocker(DevShape shape) {
        boolean docker = useDocker();
        if (docker && !shape.isDefault()) {
            if ("docker".equalsIgnoreCase(env.get(MODE_VARIABLE))) {
                throw new DevStackException("a Kafka cluster and a PostgreSQL standby run as local processes, and "
                        + MODE_VARIABLE + "=docker asks for Docker: docker-compose.yml has one broker and one server");
            }
            progress.step("a Kafka cluster and a PostgreSQL standby run as local processes, not in Docker");
            return false;
        }
        return docker;
    }

    private boolean useDocker() {
        String mode = env.getOrDefault(MODE_VARIABLE, "auto").toLowerCase(Locale.ROOT);
        return switch (mode) {
            case "local" -> false;
            case "docker" -> {
                if (!DockerCompose.available()) {
                    throw new DevStackException(MODE_VARIABLE + "=docker but no Docker engine answers `docker info`");
                }
                yield true;
            }
            case "auto" -> DockerCompose.available();
            default ->
                throw new DevStackException(
                        MODE_VARIABLE + " must be auto, local or docker, not '" + env.get(MODE_VARIABLE) + "'");
        };
    }

    private String given(String name, Map<String, String> ours) {
        String value = blankToNull(env.get(name));
        return value == null || value.equals(ours.get(name)) ? null : value;
    }

    private void remember(List<String> started, String service) {
        if (!started.contains(service)) {
            started.add(service);
            writeState(started);
        }
    }

    private void writeState(List<String> started) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("started"), String.join("\n", started) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private List<String> readState() {
        try {
            Path file = dir.resolve("started");
            return Files.exists(file)
                    ? Files.readAllLines(file).stream()
                            .filter(l -> !l.isBlank())
                            .toList()
                    : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Serialises concurrent {@code dev up}/{@code down} calls (two test JVMs starting at once). */
    private <T> T locked(java.util.function.Supplier<T> action) {
        try {
            Files.createDirectories(dir);
            try (FileChannel channel =
                            FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock ignored = channel.lock()) {
                return action.get();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + dir.resolve("lock"), e);
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** Reads {@code .ragline/dev.env} under {@code home}, for processes started after {@code dev up}. */
    public static Map<String, String> readEnvFile(Path home) {
        return new LinkedHashMap<>(DevEnvFile.read(home.resolve(".ragline").resolve("dev.env")));
    }
}
