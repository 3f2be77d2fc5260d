package io.ragline.benchmarks.relay;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.TestServices;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One outbox relay under test in a JVM of its own (both get {@value #HEAP}): Ragline's
 * event-dispatcher ({@code EventDispatcher.main} from this classpath), or the Debezium peer
 * ({@code DebeziumOutboxPeer} from {@code benchmarks-debezium/target}, whose Kafka Connect
 * classpath never meets Ragline's). Each drains its own schema's outbox table, of the same shape
 * and triggers (Ragline's migrations).
 */
public final class RelayProcess implements AutoCloseable {
    static final String HEAP = "-Xmx512m";

    /**
     * Both relays' JVM options: the heap, and whatever {@code -Drelay.jvmArgs} adds (space
     * separated; for example {@code -Xlog:gc:file=/tmp/gc-%p.log:time} to set pauses beside the
     * slow rows).
     */
    static List<String> jvmOptions() {
        List<String> options = new ArrayList<>(List.of(HEAP));
        String extra = System.getProperty("relay.jvmArgs", "").strip();
        if (!extra.isEmpty()) {
            options.addAll(List.of(extra.split("\\s+")));
        }
        return options;
    }

    public static final String DEBEZIUM_MAIN = "io.ragline.peer.debezium.DebeziumOutboxPeer";

    private final String name;
    private final String schema;
    private final JavaProcess process;
    private final boolean stopsOnEndOfInput;

    private RelayProcess(String name, String schema, JavaProcess process, boolean stopsOnEndOfInput) {
        this.name = name;
        this.schema = schema;
        this.process = process;
        this.stopsOnEndOfInput = stopsOnEndOfInput;
    }

    /** The relay JVM's process id, for its CPU account ({@link CpuAccount}). */
    public long pid() {
        return process.process().pid();
    }

    /** Ragline's event-dispatcher on {@code schema}, with {@code settings} ({@code RAGLINE_*}) added. */
    public static RelayProcess ragline(
            String databaseUrl, String bootstrap, String schema, Map<String, String> settings) throws IOException {
        return ragline("ragline", databaseUrl, bootstrap, schema, settings);
    }

    /** As {@link #ragline(String, String, String, Map)}, called {@code name} in the results. */
    public static RelayProcess ragline(
            String name, String databaseUrl, String bootstrap, String schema, Map<String, String> settings)
            throws IOException {
        return ragline(name, null, databaseUrl, bootstrap, schema, settings);
    }

    /**
     * As {@link #ragline(String, String, String, String, Map)}, from the build on {@code classpath}
     * (null: this JVM's), to compare two builds of the event-dispatcher side by side.
     */
    public static RelayProcess ragline(
            String name,
            String classpath,
            String databaseUrl,
            String bootstrap,
            String schema,
            Map<String, String> settings)
            throws IOException {
        Map<String, String> env = new HashMap<>(settings);
        env.put("DATABASE_URL", databaseUrl);
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("RAGLINE_DB_SCHEMA", schema);
        env.putIfAbsent("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_RETENTION_SCHEDULER", "off");
        String main = "io.ragline.dispatcher.EventDispatcher";
        JavaProcess p = classpath == null
                ? JavaProcess.start(jvmOptions(), main, env)
                : JavaProcess.start(classpath, jvmOptions(), main, env);
        return new RelayProcess(name, schema, p, false);
    }

    /** Debezium's embedded outbox relay on {@code schema}, with a replication slot named {@code slot}. */
    public static RelayProcess debezium(String databaseUrl, String bootstrap, String schema, String slot)
            throws IOException {
        Path module = TestServices.home().resolve("benchmarks-debezium");
        Path main = module.resolve("target/classes/" + DEBEZIUM_MAIN.replace('.', '/') + ".class");
        if (!Files.isRegularFile(main) || !Files.isDirectory(module.resolve("target/peer-lib"))) {
            throw new IllegalStateException("the Debezium peer is not built in " + module
                    + ": run ./mvnw -B -q package -pl benchmarks-debezium first");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions());
        command.add("-cp");
        command.add(module.resolve("target/classes") + File.pathSeparator + module.resolve("target/peer-lib") + "/*");
        command.addAll(List.of(DEBEZIUM_MAIN, schema, "outbox", bootstrap, slot, ""));
        Map<String, String> env = new HashMap<>();
        env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("DATABASE_URL", databaseUrl);
        JavaProcess p = JavaProcess.launch(command, module, env);
        RelayProcess relay = new RelayProcess("debezium", schema, p, true);
        relay.awaitOutput("ready", Duration.ofMinutes(2));
        return relay;
    }

    public String name() {
        return name;
    }

    public String schema() {
        return schema;
    }

    private void awaitOutput(String line, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!process.stdout().contains(line)) {
            if (!process.process().isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException(name + " relay did not start: " + tail(process.stderr()));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** Fails, with the relay's own words, if it has exited. */
    public void checkAlive() throws IOException {
        if (!process.process().isAlive()) {
            throw new IllegalStateException(
                    name + " relay exited " + process.process().exitValue() + ": " + tail(process.stderr()));
        }
    }

    @Override
    public void close() throws Exception {
        if (stopsOnEndOfInput) {
            process.process().getOutputStream().close();
        } else {
            process.terminate();
        }
        process.waitFor(60);
    }

    private static String tail(String text) {
        String t = text.strip();
        return t.length() <= 3000 ? t : "..." + t.substring(t.length() - 3000);
    }
}
