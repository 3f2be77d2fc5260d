package io.ragline.devstack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** An external command run to completion, its output captured; fails with the output in the message. */
public final class Command {
    private final List<String> argv;
    private final Map<String, String> env = new HashMap<>();
    private Path directory;
    private Duration timeout = Duration.ofMinutes(10);

    private Command(List<String> argv) {
        this.argv = List.copyOf(argv);
    }

    public static Command of(String... argv) {
        return new Command(List.of(argv));
    }

    public static Command of(List<String> argv) {
        return new Command(argv);
    }

    /** The same command run as {@code user} through runuser; used because initdb refuses root. */
    public Command asUser(String user) {
        if (user == null) {
            return this;
        }
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", user, "--"));
        wrapped.addAll(argv);
        Command c = new Command(wrapped);
        c.env.putAll(env);
        c.directory = directory;
        c.timeout = timeout;
        return c;
    }

    public Command env(String key, String value) {
        env.put(key, value);
        return this;
    }

    public Command in(Path dir) {
        this.directory = dir;
        return this;
    }

    public Command timeout(Duration timeout) {
        this.timeout = timeout;
        return this;
    }

    public List<String> argv() {
        return argv;
    }

    /** Runs and returns the combined output; throws {@link DevStackException} on a non-zero exit. */
    public String run() {
        Result r = tryRun();
        if (r.exitCode() != 0) {
            throw new DevStackException(
                    "command failed (exit " + r.exitCode() + "): " + String.join(" ", argv) + "\n" + tail(r.output()));
        }
        return r.output();
    }

    /** Runs and returns exit code and output; never throws for a non-zero exit. */
    public Result tryRun() {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().putAll(env);
        if (directory != null) {
            pb.directory(directory.toFile());
        }
        java.nio.file.Path out = null;
        try {
            // Output goes to a file so that waitFor's timeout holds even if the command never closes it.
            out = java.nio.file.Files.createTempFile("ragline-cmd", ".out");
            pb.redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new DevStackException("command timed out after " + timeout + ": " + String.join(" ", argv));
            }
            return new Result(p.exitValue(), java.nio.file.Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(127, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DevStackException("interrupted while running " + String.join(" ", argv), e);
        } finally {
            if (out != null) {
                try {
                    java.nio.file.Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temp file left behind is harmless
                }
            }
        }
    }

    /** True when {@code name} is an executable on PATH. */
    public static boolean onPath(String name) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Path.of(dir, name).toFile().canExecute()) {
                return true;
            }
        }
        return false;
    }

    private static String tail(String output) {
        String[] lines = output.strip().split("\n");
        int from = Math.max(0, lines.length - 25);
        return String.join("\n", List.of(lines).subList(from, lines.length));
    }

    public record Result(int exitCode, String output) {}
}
