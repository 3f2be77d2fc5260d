package io.ragline.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevEnvFileTest {

    @Test
    void valuesSurviveARoundTripAndTheFileIsPrivate(@TempDir Path dir) throws Exception {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("DATABASE_URL", "postgresql://u:p@127.0.0.1:5432/db?sslmode=disable");
        values.put("ODD", "it's $HOME; `x`");
        Path file = dir.resolve(".ragline/dev.env");

        DevEnvFile.write(file, values);

        assertThat(DevEnvFile.read(file)).isEqualTo(values);
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void quotedValuesAreSafeForAShell(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("dev.env");
        DevEnvFile.write(file, Map.of("ODD", "it's $HOME; `x`"));

        Command.Result sourced = Command.of("bash", "-c", "set -a; . '" + file + "'; printf %s \"$ODD\"")
                .tryRun();

        assertThat(sourced.exitCode()).isZero();
        assertThat(sourced.output()).isEqualTo("it's $HOME; `x`");
    }
}
