package io.ragline.cli;

import io.ragline.devstack.JavaClasspath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The {@code ragline} command as a real OS process, with exactly the environment a test gives it. */
final class CliProcess {
    final Process process;
    final Path stdout;
    final Path stderr;

    private CliProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** Starts {@code ragline args...}; {@code RAGLINE_HOME} is an empty directory so no dev.env leaks in. */
    static CliProcess start(Map<String, String> env, String... args) throws IOException {
        Path home = Files.createTempDirectory("ragline-home");
        List<String> argv = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // The product's logging, not testkit's logback-test.xml that the test class path has.
                "-Dlogback.configurationFile=" + RaglineCli.class.getResource("/logback.xml"),
                "-cp",
                JavaClasspath.current(),
                RaglineCli.class.getName()));
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment()
                .keySet()
                .removeIf(k ->
                        k.startsWith("RAGLINE_") || k.equals("DATABASE_URL") || k.equals("KAFKA_BOOTSTRAP_SERVERS"));
        pb.environment().put("RAGLINE_HOME", home.toString());
        pb.environment().putAll(env);
        Path out = home.resolve("stdout");
        Path err = home.resolve("stderr");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        return new CliProcess(pb.start(), out, err);
    }

    int waitFor(long seconds) throws InterruptedException, IOException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("ragline did not exit within " + seconds + " s; stderr:\n" + stderr());
        }
        return process.exitValue();
    }

    String stdout() throws IOException {
        return Files.readString(stdout, StandardCharsets.UTF_8);
    }

    String stderr() throws IOException {
        return Files.readString(stderr, StandardCharsets.UTF_8);
    }
}
