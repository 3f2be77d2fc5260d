package io.ragline.cli;

import io.ragline.devstack.Ports;
import io.ragline.testkit.JavaProcess;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The worker processes of a scaled deployment, each kind its own {@code ragline <kind>} process as
 * in production, each replica with its own admin (and HTTP) port and its own stable {@code
 * RAGLINE_KAFKA_GROUP_INSTANCE_ID} (a StatefulSet's pod name), kept across its restarts. Every
 * incarnation's output is kept, so a test can read all of it at the end.
 */
final class ChaosWorkers implements AutoCloseable {
    /** A kind of worker process and how many replicas of it run. */
    record Kind(String command, int replicas) {}

    /** Small heaps (ten JVMs beside three brokers on a shared machine), C1 only: restarts compile less. */
    private static final List<String> JVM = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    /**
     * An embedding-worker reads its ONNX model (about 90 MB) whole into the heap while it builds the
     * session: at 256 MB that ran out of memory now and then, and the worker stayed not ready.
     */
    private static final List<String> EMBEDDING_JVM =
            List.of("-Xmx640m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    /** One replica: its name (also its group instance id), its environment, its current process. */
    static final class Replica {
        final String name;
        final String kind;
        final Map<String, String> env;
        final int adminPort;
        final Integer httpPort;
        private final List<JavaProcess> incarnations = new ArrayList<>();
        /** Whether the test stopped it on purpose: an exit then is not a crash. */
        private volatile boolean stopping;

        private Replica(String name, String kind, Map<String, String> env, int adminPort, Integer httpPort) {
            this.name = name;
            this.kind = kind;
            this.env = env;
            this.adminPort = adminPort;
            this.httpPort = httpPort;
        }

        synchronized JavaProcess current() {
            return incarnations.get(incarnations.size() - 1);
        }

        synchronized List<JavaProcess> incarnations() {
            return List.copyOf(incarnations);
        }

        synchronized void start() throws IOException {
            incarnations.add(CliProcess.start(kind.equals("embedding-worker") ? EMBEDDING_JVM : JVM, env, kind));
            stopping = false;
        }

        /** Whether its current process exited without the test stopping it. */
        boolean crashed() {
            return !stopping && !current().process().isAlive();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private final List<Replica> replicas = new ArrayList<>();

    /**
     * Starts {@code kinds}' replicas with {@code base} plus each one's admin port, HTTP port
     * ({@code ingest-worker}: webhooks; {@code embedding-worker}: search) and group instance id.
     */
    ChaosWorkers(Map<String, String> base, List<Kind> kinds) throws IOException {
        for (Kind k : kinds) {
            for (int i = 1; i <= k.replicas(); i++) {
                String name = "chaos-" + k.command() + "-" + i;
                Map<String, String> env = new HashMap<>(base);
                int admin = port();
                env.put("RAGLINE_ADMIN_PORT", String.valueOf(admin));
                env.put("RAGLINE_KAFKA_GROUP_INSTANCE_ID", name);
                Integer http = null;
                if (k.command().equals("ingest-worker") || k.command().equals("embedding-worker")) {
                    http = port();
                    env.put("RAGLINE_HTTP_PORT", String.valueOf(http));
                }
                replicas.add(new Replica(name, k.command(), env, admin, http));
            }
        }
        for (Replica r : replicas) {
            r.start();
        }
    }

    private final java.util.Set<Integer> ports = new java.util.HashSet<>();

    /** A port of its own for a replica, kept across its restarts, none chosen twice. */
    private int port() {
        int port;
        do {
            port = Ports.free();
        } while (!ports.add(port));
        return port;
    }

    List<Replica> all() {
        return List.copyOf(replicas);
    }

    List<Replica> of(String kind) {
        return replicas.stream().filter(r -> r.kind.equals(kind)).toList();
    }

    Replica random(Random random) {
        return replicas.get(random.nextInt(replicas.size()));
    }

    /** SIGKILL, then the same replica again at once (as a supervisor restarts a container). */
    void kill(Replica r) throws IOException {
        r.stopping = true;
        r.current().kill();
        try {
            r.current().process().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        r.start();
    }

    /**
     * SIGTERM, waiting for its exit; then the same replica again. Returns the exit code if it was
     * ready when signalled (0 is a clean stop), empty if it was still starting (the JVM's 143 is
     * documented there) or had exited already.
     */
    java.util.OptionalInt terminate(Replica r, long seconds) throws IOException, InterruptedException {
        r.stopping = true;
        boolean ready = r.current().process().isAlive() && r.current().stderr().contains(READY);
        r.current().terminate();
        int code = r.current().waitFor(seconds);
        r.start();
        return ready ? java.util.OptionalInt.of(code) : java.util.OptionalInt.empty();
    }

    /** What a worker logs once it is ready (WorkerMain). */
    static final String READY = " ready (admin port ";

    /** Replicas whose process exited without the test stopping it. */
    List<Replica> crashed() {
        return replicas.stream().filter(Replica::crashed).toList();
    }

    /** Every incarnation's stdout and stderr, for what must never be printed. */
    String allOutput() throws IOException {
        StringBuilder out = new StringBuilder();
        for (Replica r : replicas) {
            for (JavaProcess p : r.incarnations()) {
                out.append(p.stdout()).append(p.stderr());
            }
        }
        return out.toString();
    }

    /** The last {@code chars} of the current incarnation's stderr. */
    static String tail(Replica r, int chars) {
        try {
            String err = r.current().stderr();
            return r.name + ":\n" + err.substring(Math.max(0, err.length() - chars));
        } catch (IOException e) {
            return r.name + ": " + e;
        }
    }

    /** SIGTERM to every replica, then SIGKILL to any still running after {@code seconds}. */
    @Override
    public void close() {
        for (Replica r : replicas) {
            r.stopping = true;
            r.current().terminate();
        }
        for (Replica r : replicas) {
            try {
                r.current().waitFor(60);
            } catch (Exception | AssertionError e) {
                r.current().kill();
            }
        }
    }
}
