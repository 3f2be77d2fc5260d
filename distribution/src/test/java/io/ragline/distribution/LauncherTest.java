package io.ragline.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/ragline}'s own logic, the shell's part: which java it runs and with which arguments, from
 * an installation whose path has spaces, under a user's shell settings. The java it finds through
 * {@code JAVA_HOME} here only writes down its arguments; DistributionIT runs the launcher on a real
 * runtime.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("src/dist/bin/ragline");

    @TempDir
    Path dir;

    @Test
    void anExportedCdpathAndAGlobInJavaOptsReachJavaUnchanged() throws Exception {
        Path install = dir.resolve("opt with space/ragline-0.1.0");
        Files.createDirectories(install.resolve("bin"));
        Files.copy(LAUNCHER, install.resolve("bin/ragline"));
        Path javaHome = dir.resolve("jre");
        Path arguments = dir.resolve("arguments");
        executable(
                javaHome.resolve("bin/java"),
                "#!/bin/sh\n"
                        + "if [ \"$1\" = -XshowSettings:properties ]; then\n"
                        + "  echo '    java.specification.version = 21' >&2; exit 0\n"
                        + "fi\n"
                        + "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > '" + arguments + "'\n");
        // The working directory holds a file the glob in JAVA_OPTS would match; CDPATH finds
        // `ragline-0.1.0/bin/..` through its "." entry, and cd then prints the directory.
        Path work = install.getParent();
        Files.writeString(work.resolve("-Dragline.example=1"), "");

        ProcessBuilder launch = new ProcessBuilder("sh", "ragline-0.1.0/bin/ragline", "search", "two words")
                .directory(work.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("output").toFile());
        launch.environment()
                .putAll(Map.of("JAVA_HOME", javaHome.toString(), "JAVA_OPTS", "-Dragline.example=*", "CDPATH", ".:"));
        Process p = launch.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();

        assertThat(p.exitValue()).as(Files.readString(dir.resolve("output"))).isZero();
        assertThat(Files.readAllLines(arguments, StandardCharsets.UTF_8))
                .containsExactly(
                        "-Dragline.example=*",
                        "-jar",
                        install.toRealPath().resolve("lib/ragline-cli.jar").toString(),
                        "search",
                        "two words");
    }

    private static void executable(Path file, String script) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, script);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
