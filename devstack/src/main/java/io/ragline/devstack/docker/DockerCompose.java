package io.ragline.devstack.docker;

import io.ragline.devstack.Command;
import io.ragline.devstack.DevEnvFile;
import io.ragline.devstack.DevStackException;
import io.ragline.devstack.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PostgreSQL with pgvector and a KRaft Kafka from the repository's {@code docker-compose.yml}. No
 * password is built in: {@code .env} beside the compose file holds a generated one.
 */
public final class DockerCompose {
    public static final String POSTGRES = "postgres";
    public static final String KAFKA = "kafka";

    private final Path home;
    private final Progress progress;

    public DockerCompose(Path home, Progress progress) {
        this.home = home;
        this.progress = progress;
    }

    /** True when a Docker engine answers (not only a client) and compose is available. */
    public static boolean available() {
        if (!Command.onPath("docker")) {
            return false;
        }
        return Command.of("docker", "info")
                                .timeout(Duration.ofSeconds(15))
                                .tryRun()
                                .exitCode()
                        == 0
                && Command.of("docker", "compose", "version")
                                .timeout(Duration.ofSeconds(15))
                                .tryRun()
                                .exitCode()
                        == 0;
    }

    /** Starts the named services and waits until their health checks pass. */
    public Map<String, String> up(List<String> services) {
        Map<String, String> env = ensureEnvFile();
        progress.step("starting " + String.join(", ", services) + " with docker compose");
        List<String> argv = new ArrayList<>(compose());
        argv.addAll(List.of("up", "-d", "--wait"));
        argv.addAll(services);
        Command.of(argv).in(home).timeout(Duration.ofMinutes(10)).run();
        Map<String, String> addresses = new LinkedHashMap<>();
        if (services.contains(POSTGRES)) {
            // The image applies POSTGRES_PASSWORD only when it creates the volume; a regenerated
            // .env (git clean) would lock us out. Inside the container local connections are
            // trusted, so set the password again on every up.
            List<String> exec = new ArrayList<>(compose());
            exec.addAll(List.of(
                    "exec",
                    "-T",
                    POSTGRES,
                    "psql",
                    "-U",
                    "ragline",
                    "-d",
                    "ragline",
                    "-c",
                    "alter role ragline password '" + env.get("POSTGRES_PASSWORD") + "'"));
            Command.of(exec).in(home).timeout(Duration.ofMinutes(1)).run();
            addresses.put(
                    "DATABASE_URL",
                    "postgresql://ragline:" + env.get("POSTGRES_PASSWORD") + "@127.0.0.1:" + env.get("RAGLINE_PG_PORT")
                            + "/ragline?sslmode=disable");
        }
        if (services.contains(KAFKA)) {
            addresses.put("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + env.get("RAGLINE_KAFKA_PORT"));
        }
        return addresses;
    }

    /** Stops and removes the containers; the named volumes (the data) stay. */
    public void down() {
        progress.step("stopping docker compose services (volumes keep the data)");
        List<String> argv = new ArrayList<>(compose());
        argv.add("down");
        Command.of(argv).in(home).timeout(Duration.ofMinutes(5)).run();
    }

    private List<String> compose() {
        Path file = home.resolve("docker-compose.yml");
        if (!Files.exists(file)) {
            throw new DevStackException("no docker-compose.yml in " + home);
        }
        return List.of(
                "docker",
                "compose",
                "-f",
                file.toString(),
                "--env-file",
                home.resolve(".env").toString());
    }

    private Map<String, String> ensureEnvFile() {
        Path file = home.resolve(".env");
        Map<String, String> env = new LinkedHashMap<>(DevEnvFile.read(file));
        boolean changed = false;
        if (!env.containsKey("POSTGRES_PASSWORD")) {
            byte[] bytes = new byte[18];
            new SecureRandom().nextBytes(bytes);
            env.put("POSTGRES_PASSWORD", HexFormat.of().formatHex(bytes));
            changed = true;
        }
        changed |= env.putIfAbsent("RAGLINE_PG_PORT", "55432") == null;
        changed |= env.putIfAbsent("RAGLINE_KAFKA_PORT", "59092") == null;
        if (changed) {
            try {
                Files.writeString(file, "");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            DevEnvFile.write(file, env);
        }
        return env;
    }
}
