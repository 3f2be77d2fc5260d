package io.ragline.devstack;

import io.ragline.devstack.docker.DockerCompose;
import io.ragline.devstack.kafka.LocalKafka;
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
 * {@code .ragline/}. {@link #up()} is idempotent and writes {@code .ragline/dev.env}.
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

    public DevServices up() {
        return locked(() -> {
            // Values that are our own dev.env sourced into the shell were not given by the user:
            // dev up still manages (and dev down still stops) those services.
            Map<String, String> ours = DevEnvFile.read(envFile());
            String databaseUrl = given(DevServices.DATABASE_URL, ours);
            String kafka = given(DevServices.KAFKA_BOOTSTRAP_SERVERS, ours);
            List<String> started = new ArrayList<>(readState());
            if (databaseUrl == null || kafka == null) {
                if (useDocker()) {
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
                        databaseUrl = new LocalPostgres(dir, progress, Privilege.detect()).start();
                    }
                    if (kafka == null) {
                        remember(started, "kafka");
                        kafka = new LocalKafka(dir, progress).start();
                    }
                }
            }
            DevServices services = new DevServices(databaseUrl, kafka);
            DevEnvFile.write(envFile(), services.asEnv());
            return services;
        });
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
            if (started.contains("postgres")) {
                new LocalPostgres(dir, progress, Privilege.detect()).stop();
            }
            if (started.isEmpty()) {
                progress.step("nothing to stop: dev up started no service here");
            }
            writeState(List.of());
            return null;
        });
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
