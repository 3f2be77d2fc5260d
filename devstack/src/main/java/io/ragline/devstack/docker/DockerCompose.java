package io.ragline.devstack.docker;

import io.ragline.devstack.Command;
import io.ragline.devstack.DevEnvFile;
import io.ragline.devstack.DevStackException;
import io.ragline.devstack.Progress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PostgreSQL with pgvector and a KRaft Kafka from the repository's {@code docker-compose.yml}, the file
 * that also runs Ragline's whole stack. {@code up} names the two services ({@code docker compose up -d
 * --wait postgres kafka}), which starts them alone since they depend on nothing; no compose profile,
 * because a profile on the workers would make the plain {@code docker compose up -d} start only the
 * services, and the whole stack is what that command should start.
 *
 * <p>No password is built in. The secrets are files under {@code secrets/} ({@link ComposeSecrets}),
 * written with random values when missing; the owner's password is read from its file. A {@code
 * POSTGRES_PASSWORD} that an earlier {@code dev up} left in {@code .env} moves into that file (the
 * volume it made keeps working), and {@code .env} keeps only the host ports.
 */
public final class DockerCompose {
    public static final String POSTGRES = "postgres";
    public static final String KAFKA = "kafka";
    /** The postgres image's POSTGRES_USER and POSTGRES_DB in docker-compose.yml: the schema's owner. */
    static final String OWNER = "ragline";

    private static final String LEGACY_PASSWORD = "POSTGRES_PASSWORD";

    private final Path home;
    private final Progress progress;
    private final ComposeSecrets secrets;

    public DockerCompose(Path home, Progress progress) {
        this.home = home;
        this.progress = progress;
        this.secrets = new ComposeSecrets(home);
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
        Map<String, String> env = prepare();
        progress.step("starting " + String.join(", ", services) + " with docker compose");
        upCommand(services).run();
        Map<String, String> addresses = new LinkedHashMap<>();
        if (services.contains(POSTGRES)) {
            // The image applies the password file only when it creates the volume; a regenerated
            // secret (a new checkout, git clean) would lock us out. Inside the container local
            // connections are trusted, so set the password again on every up.
            ownerPasswordCommand().run();
            addresses.put(
                    "DATABASE_URL",
                    "postgresql://" + OWNER + ":" + percentEncoded(secrets.read(ComposeSecrets.POSTGRES_PASSWORD))
                            + "@127.0.0.1:" + env.get("RAGLINE_PG_PORT") + "/" + OWNER + "?sslmode=disable");
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

    /** {@code docker compose ... up -d --wait SERVICE...}. */
    Command upCommand(List<String> services) {
        List<String> argv = new ArrayList<>(compose());
        argv.addAll(List.of("up", "-d", "--wait"));
        argv.addAll(services);
        return Command.of(argv).in(home).timeout(Duration.ofMinutes(10));
    }

    /**
     * Sets the owner's password to its secret file's value, read inside the container by psql (a
     * backquoted {@code \set}) and, as {@link ComposeSecrets#read} and DATABASE_PASSWORD_FILE do, without
     * its trailing line breaks (the backquote drops only one), so that it appears on no command line
     * here or there.
     */
    Command ownerPasswordCommand() {
        String script = "printf '%s\\n' '\\set raw `cat /run/secrets/" + ComposeSecrets.POSTGRES_PASSWORD + "`'"
                + " \"select rtrim(:'raw', chr(13) || chr(10)) as password \\gset\""
                + " \"alter role " + OWNER + " password :'password'\""
                + " | psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet -U " + OWNER + " -d " + OWNER;
        List<String> argv = new ArrayList<>(compose());
        argv.addAll(List.of("exec", "-T", POSTGRES, "sh", "-c", script));
        return Command.of(argv).in(home).timeout(Duration.ofMinutes(1));
    }

    /**
     * Writes what compose reads before the first {@code up}: the secret files that are missing and
     * {@code .env} with the host ports. Returns {@code .env}'s values.
     */
    Map<String, String> prepare() {
        Path file = home.resolve(".env");
        Map<String, String> env = new LinkedHashMap<>(DevEnvFile.read(file));
        String legacy = env.remove(LEGACY_PASSWORD);
        List<String> written =
                secrets.ensure(legacy == null ? Map.of() : Map.of(ComposeSecrets.POSTGRES_PASSWORD, legacy));
        if (!written.isEmpty()) {
            progress.step("wrote the secret files " + String.join(", ", written) + " in "
                    + home.resolve(ComposeSecrets.DIRECTORY));
        }
        boolean changed = legacy != null;
        changed |= env.putIfAbsent("RAGLINE_PG_PORT", "55432") == null;
        changed |= env.putIfAbsent("RAGLINE_KAFKA_PORT", "59092") == null;
        if (changed) {
            DevEnvFile.write(file, env);
        }
        return env;
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

    /** A user name or password as a URL's user information holds it: unreserved characters as they are. */
    static String percentEncoded(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return out.toString();
    }
}
