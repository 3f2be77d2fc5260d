package io.ragline.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where the machine's CPU went while a benchmark ran in this JVM: this JVM's Java threads by name
 * (the ONNX lanes, the workers' loops: their whole names, from the JVM), its own threads (the JIT
 * compilers, GC: from {@code /proc}), every Postgres process, the Kafka brokers on this machine,
 * and what stayed idle. {@link #mark()} before, {@link #print} after. A Java thread that ends in
 * between is counted among the JVM's own threads.
 */
final class MachineAccount {
    private static final ThreadMXBean JVM_THREADS = ManagementFactory.getThreadMXBean();

    private final Map<String, Double> javaThreads;
    private final double process;
    private final double compilers;
    private final double postgres;
    private final double brokers;
    private final long[] brokerPids;
    private final double[] machine;
    private final long start;
    private final long uptimeMillis;

    private MachineAccount(long[] brokerPids) {
        this.brokerPids = brokerPids;
        this.start = System.nanoTime();
        this.uptimeMillis = ManagementFactory.getRuntimeMXBean().getUptime();
        this.javaThreads = javaThreads();
        long self = ProcessHandle.current().pid();
        this.process = ProcCpu.seconds(self);
        this.compilers = ProcCpu.threads(self).entrySet().stream()
                .filter(e -> e.getKey().contains("CompilerThre"))
                .mapToDouble(Map.Entry::getValue)
                .sum();
        this.postgres = ProcCpu.postgres();
        double b = 0;
        for (long pid : brokerPids) {
            b += ProcCpu.seconds(pid);
        }
        this.brokers = b;
        this.machine = ProcCpu.machine();
    }

    /** The counts as they are now; the brokers are the processes running {@code kafka.Kafka}. */
    static MachineAccount mark() {
        return new MachineAccount(ProcCpu.pidsWithArgument("kafka.Kafka"));
    }

    /**
     * A table of the CPU seconds since {@link #mark()}: each of this JVM's thread names that took at
     * least half a per cent of the machine, then the rest of this JVM, Postgres, the brokers, other
     * processes and idle, each with its share of the machine's CPU seconds in that time.
     */
    void print() {
        MachineAccount now = new MachineAccount(brokerPids);
        double wall = (now.start - start) / 1e9;
        double all = now.machine[1] - machine[1];
        double busy = now.machine[0] - machine[0];
        Map<String, Double> used = new HashMap<>();
        now.javaThreads.forEach((name, s) -> used.put(name, s - javaThreads.getOrDefault(name, 0.0)));
        double java = used.values().stream().mapToDouble(Double::doubleValue).sum();
        double jvm = now.process - process;
        double jit = now.compilers - compilers;
        double pg = now.postgres - postgres;
        double kafka = now.brokers - brokers;
        System.out.printf(
                Locale.ROOT,
                "| where the CPU went, %.1f s of wall time (the JVM's %.1f-%.1f s), %.1f CPU-s on %d cores | CPU-s |"
                        + " share |%n",
                wall,
                uptimeMillis / 1e3,
                now.uptimeMillis / 1e3,
                all,
                Runtime.getRuntime().availableProcessors());
        System.out.println("|---|---:|---:|");
        List<Map.Entry<String, Double>> named = new ArrayList<>(used.entrySet());
        named.sort(Map.Entry.<String, Double>comparingByValue().reversed());
        double small = 0;
        for (Map.Entry<String, Double> e : named) {
            if (e.getValue() >= 0.005 * all) {
                row("this JVM: " + e.getKey(), e.getValue(), all);
            } else {
                small += e.getValue();
            }
        }
        row("this JVM: other Java threads", small, all);
        row("this JVM: JIT compilers", jit, all);
        row("this JVM: GC and its other own threads", jvm - java - jit, all);
        row("Postgres (every process)", pg, all);
        row(
                brokerPids.length == 0 ? "Kafka brokers (none found)" : "Kafka brokers (" + brokerPids.length + ")",
                kafka,
                all);
        row("other processes", busy - jvm - pg - kafka, all);
        row("idle", all - busy, all);
    }

    /** CPU seconds of each live Java thread, summed by its name with the digits taken out. */
    private static Map<String, Double> javaThreads() {
        Map<String, Double> out = new HashMap<>();
        for (ThreadInfo t : JVM_THREADS.getThreadInfo(JVM_THREADS.getAllThreadIds())) {
            if (t == null) {
                continue; // ended since the listing
            }
            long nanos = JVM_THREADS.getThreadCpuTime(t.getThreadId());
            if (nanos > 0) {
                out.merge(t.getThreadName().replaceAll("[0-9]+", "#"), nanos / 1e9, Double::sum);
            }
        }
        return out;
    }

    private static void row(String what, double seconds, double all) {
        System.out.printf(Locale.ROOT, "| %s | %.2f | %.1f %% |%n", what, seconds, all > 0 ? 100 * seconds / all : 0);
    }
}
