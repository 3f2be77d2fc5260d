package io.ragline.testkit;

import io.ragline.devstack.JavaClasspath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A main class of the test class path run as a real OS process, so tests can send it SIGTERM or
 * SIGKILL. Its environment is exactly what the test gives (plus PATH and HOME); {@code
 * RAGLINE_HOME} is an empty directory so that no {@code .ragline/dev.env} leaks in.
 *
 * <p>A JVM that ends (its tests done, or itself SIGTERMed, a failsafe JVM stopped by Maven) takes
 * the processes it started and that still run with it: a shutdown hook sends each SIGTERM, waits
 * up to {@link #SHUTDOWN_GRACE} for all of them, then SIGKILLs what is left, descendants included
 * (a launcher script's JVM). Only SIGKILL of the JVM itself leaves them behind.
 */
public final class JavaProcess {
    /** How long the shutdown hook waits for processes still running to end after SIGTERM. */
    public static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    /**
     * Held while a process starts and is registered, and by the shutdown hook while it takes the
     * list: a SIGTERM that arrived while {@code ProcessBuilder.start()} ran found the new process
     * not registered yet, and it (with whatever it started) outlived the JVM. Guards {@link #ending}.
     */
    private static final Object STARTING = new Object();

    private static boolean ending;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(JavaProcess::endAll, "java-process-reaper"));
    }

    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private JavaProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    public static JavaProcess start(List<String> jvmOptions, String mainClass, Map<String, String> env, String... args)
            throws IOException {
        return start(JavaClasspath.current(), jvmOptions, mainClass, env, args);
    }

    /**
     * As {@link #start(List, String, Map, String...)}, on {@code classpath} instead of this JVM's:
     * another build of the same code, for a benchmark that compares two builds side by side.
     */
    public static JavaProcess start(
            String classpath, List<String> jvmOptions, String mainClass, Map<String, String> env, String... args)
            throws IOException {
        Path home = Files.createTempDirectory("ragline-process");
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.addAll(jvmOptions);
        argv.addAll(List.of("-cp", classpath, mainClass));
        argv.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment()
                .keySet()
                .removeIf(k -> k.startsWith("RAGLINE_")
                        || k.startsWith("DATABASE_")
                        || k.equals("PGPASSFILE")
                        || k.equals("KAFKA_BOOTSTRAP_SERVERS")
                        // The default of RAGLINE_KAFKA_GROUP_INSTANCE_ID: two processes of a test
                        // on one host must not share a static membership (one would fence the other).
                        || k.equals("HOSTNAME"));
        pb.environment().put("RAGLINE_HOME", home.toString());
        pb.environment().putAll(env);
        Path out = home.resolve("stdout");
        Path err = home.resolve("stderr");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        return started(pb, out, err);
    }

    /**
     * A command run as it is, in {@code workingDirectory}, with exactly {@code environment} (nothing
     * of this JVM's own): for a launcher script that must find everything it needs by itself.
     */
    public static JavaProcess launch(List<String> command, Path workingDirectory, Map<String, String> environment)
            throws IOException {
        Path logs = Files.createTempDirectory("ragline-process");
        ProcessBuilder pb = new ProcessBuilder(command).directory(workingDirectory.toFile());
        pb.environment().clear();
        pb.environment().putAll(environment);
        Path out = logs.resolve("stdout");
        Path err = logs.resolve("stderr");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        return started(pb, out, err);
    }

    private static JavaProcess started(ProcessBuilder pb, Path out, Path err) throws IOException {
        Process p;
        synchronized (STARTING) {
            if (ending) {
                throw new IllegalStateException("this JVM is ending: no process is started any more");
            }
            p = pb.start();
            RUNNING.add(p);
        }
        p.onExit().thenRun(() -> RUNNING.remove(p));
        return new JavaProcess(p, out, err);
    }

    /**
     * The shutdown hook: SIGTERM to every process still running and to each of its descendants (a
     * launcher script's JVM, a worker's own children: orphaned by their parent's end, they would
     * otherwise meet only the SIGKILL), then SIGKILL to whatever is left past the grace.
     */
    private static void endAll() {
        List<Process> running;
        synchronized (STARTING) {
            ending = true;
            running = List.copyOf(RUNNING);
        }
        List<ProcessHandle> left = new ArrayList<>();
        for (Process p : running) {
            List<ProcessHandle> descendants = p.descendants().toList();
            descendants.forEach(ProcessHandle::destroy);
            left.addAll(descendants);
            left.add(p.toHandle());
            p.destroy();
        }
        long deadline = System.nanoTime() + SHUTDOWN_GRACE.toNanos();
        for (ProcessHandle h : left) {
            long wait = deadline - System.nanoTime();
            try {
                if (wait > 0) {
                    h.onExit().get(wait, TimeUnit.NANOSECONDS);
                }
            } catch (Exception e) {
                // not ended within the grace: killed below
            }
        }
        left.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    public Process process() {
        return process;
    }

    /** SIGTERM. */
    public void terminate() {
        process.destroy();
    }

    /** SIGKILL. */
    public void kill() {
        process.destroyForcibly();
    }

    /** The exit code; fails the test if the process is still running after {@code seconds}. */
    public int waitFor(long seconds) throws InterruptedException, IOException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(
                    "process did not exit within " + seconds + " s; stderr:\n" + stderr() + "\nstdout:\n" + stdout());
        }
        return process.exitValue();
    }

    public String stdout() throws IOException {
        return Files.readString(stdout, StandardCharsets.UTF_8);
    }

    public String stderr() throws IOException {
        return Files.readString(stderr, StandardCharsets.UTF_8);
    }
}
