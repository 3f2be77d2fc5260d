package io.ragline.devstack.docker;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.devstack.DevEnvFile;
import io.ragline.devstack.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code dev up} in Docker mode writes and runs, checked without a Docker engine. */
class DockerComposeTest {
    private static final Progress QUIET = step -> {};

    @Test
    void theFirstUpWritesEverySecretFileInADirectoryOnlyItsOwnerEnters(@TempDir Path home) throws Exception {
        DockerCompose compose = compose(home);

        compose.prepare();

        Path dir = home.resolve("secrets");
        assertThat(Files.getPosixFilePermissions(dir)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        ComposeSecrets secrets = new ComposeSecrets(home);
        for (String name : ComposeSecrets.names()) {
            // Readable by the containers' own users: a compose secret keeps the file's mode.
            assertThat(Files.getPosixFilePermissions(secrets.file(name)))
                    .as(name)
                    .isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
            assertThat(Files.readString(secrets.file(name))).as(name).endsWith("\n");
        }
        assertThat(secrets.read(ComposeSecrets.POSTGRES_PASSWORD)).matches("[0-9a-f]{36}");
        assertThat(secrets.read(ComposeSecrets.WORKER_PASSWORD))
                .matches("[0-9a-f]{36}")
                .isNotEqualTo(secrets.read(ComposeSecrets.POSTGRES_PASSWORD));
        // RAGLINE_API_TOKENS: 16-512 characters of A-Z a-z 0-9 - . _ ~ + /, then '='.
        assertThat(secrets.read(ComposeSecrets.SEARCH_API_TOKENS)).matches("[A-Za-z0-9._~+/-]{16,512}=*");
        assertThat(secrets.read(ComposeSecrets.WEBHOOK_GITHUB_SECRET)).matches("[0-9a-f]{64}");
        assertThat(DevEnvFile.read(home.resolve(".env")))
                .containsExactlyInAnyOrderEntriesOf(Map.of("RAGLINE_PG_PORT", "55432", "RAGLINE_KAFKA_PORT", "59092"));
    }

    @Test
    void secretFilesThatExistAreNeverChanged(@TempDir Path home) throws Exception {
        Files.createDirectories(home.resolve("secrets"));
        Files.writeString(
                home.resolve("secrets/search_api_tokens"), "mine-0123456789abcdef\nsecond-0123456789abcdef\n");
        DockerCompose compose = compose(home);

        compose.prepare();
        String first = Files.readString(home.resolve("secrets/postgres_password"));
        compose.prepare();

        assertThat(Files.readString(home.resolve("secrets/search_api_tokens")))
                .isEqualTo("mine-0123456789abcdef\nsecond-0123456789abcdef\n");
        assertThat(Files.readString(home.resolve("secrets/postgres_password"))).isEqualTo(first);
    }

    @Test
    void aPasswordAnEarlierDevUpLeftInDotEnvMovesIntoItsSecretFile(@TempDir Path home) throws Exception {
        DevEnvFile.write(home.resolve(".env"), Map.of("POSTGRES_PASSWORD", "0ld-pa55", "RAGLINE_PG_PORT", "55999"));
        DockerCompose compose = compose(home);

        Map<String, String> env = compose.prepare();

        assertThat(new ComposeSecrets(home).read(ComposeSecrets.POSTGRES_PASSWORD))
                .isEqualTo("0ld-pa55");
        assertThat(env).doesNotContainKey("POSTGRES_PASSWORD").containsEntry("RAGLINE_PG_PORT", "55999");
        assertThat(Files.readString(home.resolve(".env")))
                .doesNotContain("0ld-pa55")
                .contains("RAGLINE_PG_PORT=55999");
    }

    @Test
    void upStartsOnlyTheNamedServicesAndWaitsForTheirHealthChecks(@TempDir Path home) throws Exception {
        DockerCompose compose = compose(home);

        assertThat(compose.upCommand(List.of(DockerCompose.POSTGRES, DockerCompose.KAFKA))
                        .argv())
                .containsExactly(
                        "docker",
                        "compose",
                        "-f",
                        home.resolve("docker-compose.yml").toString(),
                        "--env-file",
                        home.resolve(".env").toString(),
                        "up",
                        "-d",
                        "--wait",
                        "postgres",
                        "kafka");
    }

    @Test
    void theOwnersPasswordIsSetFromItsSecretInsideTheContainerAndOnNoCommandLine(@TempDir Path home) throws Exception {
        DockerCompose compose = compose(home);
        compose.prepare();
        String password = new ComposeSecrets(home).read(ComposeSecrets.POSTGRES_PASSWORD);

        List<String> argv = compose.ownerPasswordCommand().argv();

        assertThat(argv).doesNotContain(password).noneMatch(a -> a.contains(password));
        assertThat(argv.subList(6, 11)).containsExactly("exec", "-T", "postgres", "sh", "-c");
        assertThat(argv.get(11))
                .contains("`cat /run/secrets/postgres_password`")
                // As ComposeSecrets.read builds DATABASE_URL: every trailing line break dropped.
                .contains("rtrim(:'raw', chr(13) || chr(10)) as password \\gset")
                .contains("alter role ragline password :'password'")
                .contains("psql -v ON_ERROR_STOP=1");
    }

    @Test
    void aPasswordTypedByHandIsPercentEncodedInTheDatabaseUrl() {
        assertThat(DockerCompose.percentEncoded("a-b_c.d~e")).isEqualTo("a-b_c.d~e");
        assertThat(DockerCompose.percentEncoded("p@ss/w:rd é")).isEqualTo("p%40ss%2Fw%3Ard%20%C3%A9");
    }

    private static DockerCompose compose(Path home) throws Exception {
        Files.writeString(home.resolve("docker-compose.yml"), "services: {}\n");
        return new DockerCompose(home, QUIET);
    }
}
