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
 * (the ONNX lanes, the workers' loops: their whole names, from the JVM), its JIT compiler threads
 * (from {@code /proc}), the rest of it (GC, the VM's threads, and threads that ended in between),
 * every Postgres process, the Kafka brokers on this machine, steal, the remainder (other
 * processes, kernel threads, and interrupts where the kernel does not charge them to a process) and
 * idle. {@link #mark()} before, {@link #print} after. Each
 * thread's time is taken by its id, so a thread that ends or starts in between moves no time that
 * is not its own into another row.
 */
final class MachineAccount {
    private static final ThreadMXBean JVM_THREADS = ManagementFactory.getThreadMXBean();

    /** The Java threads by id: name and CPU seconds. */
    private final Map<Long, ProcCpu.TaskTime> javaThreads;
    /** This process's threads by Linux thread id: name and CPU seconds. */
    private final Map<Long, ProcCpu.TaskTime> tasks;

    private final double process;
    private final double postgres;
    private final double brokers;
    private final long[] brokerPids;
    private final double[] machine;
    private final long start;
    private final long uptimeMillis;

    private MachineAccount(long[] brokerPids) {
        long self = ProcessHandle.current().pid();
        this.brokerPids = brokerPids;
        this.start = System.nanoTime();
        this.uptimeMillis = ManagementFactory.getRuntimeMXBean().getUptime();
        this.javaThreads = javaThreads();
        this.tasks = ProcCpu.tasks(self);
        this.process = ProcCpu.ownSeconds(self);
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
     * A table of the CPU seconds since {@link #mark()}: each of this JVM's Java thread names that
     * took at least half a per cent of the machine, then the rest of this JVM, Postgres, the
     * brokers, interrupts and steal, the remainder and idle, each with its share of the machine's
     * CPU seconds in that time.
     */
    void print() {
        MachineAccount now = new MachineAccount(brokerPids);
        double wall = (now.start - start) / 1e9;
        double all = now.machine[1] - machine[1];
        double busy = now.machine[0] - machine[0];
        double steal = now.machine[2] - machine[2];
        Map<String, Double> used = new HashMap<>();
        now.javaThreads.forEach(
                (id, t) -> used.merge(t.name().replaceAll("[0-9]+", "#"), since(t, javaThreads.get(id)), Double::sum));
        double java = used.values().stream().mapToDouble(Double::doubleValue).sum();
        double jit = 0;
        int compilerThreads = 0;
        for (Map.Entry<Long, ProcCpu.TaskTime> e : now.tasks.entrySet()) {
            if (e.getValue().name().contains("CompilerThre")) {
                ProcCpu.TaskTime before = tasks.get(e.getKey());
                // a thread id Linux gave again to a thread of another name is a new thread
                jit += since(
                        e.getValue(),
                        before != null && before.name().equals(e.getValue().name()) ? before : null);
                compilerThreads++;
            }
        }
        double jvm = now.process - process;
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
                ProcCpu.cpus());
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
        row("this JVM: JIT compilers (" + compilerThreads + " threads at the end)", jit, all);
        row("this JVM: GC, the VM's other threads, threads that ended", jvm - java - jit, all);
        row("Postgres (every process)", pg, all);
        row(
                brokerPids.length == 0 ? "Kafka brokers (none found)" : "Kafka brokers (" + brokerPids.length + ")",
                kafka,
                all);
        row("steal (the hypervisor's other guests)", steal, all);
        row("other processes, kernel threads, interrupts (the remainder)", busy - steal - jvm - pg - kafka, all);
        row("idle", all - busy, all);
    }

    /** A thread's CPU seconds since {@code before} (null: it started since, so all of them). */
    private static double since(ProcCpu.TaskTime now, ProcCpu.TaskTime before) {
        return now.seconds() - (before == null ? 0 : before.seconds());
    }

    /** Each live Java thread by id: its name and CPU seconds. */
    private static Map<Long, ProcCpu.TaskTime> javaThreads() {
        Map<Long, ProcCpu.TaskTime> out = new HashMap<>();
        for (ThreadInfo t : JVM_THREADS.getThreadInfo(JVM_THREADS.getAllThreadIds())) {
            if (t == null) {
                continue; // ended since the listing
            }
            long nanos = JVM_THREADS.getThreadCpuTime(t.getThreadId());
            if (nanos >= 0) {
                out.put(t.getThreadId(), new ProcCpu.TaskTime(t.getThreadName(), nanos / 1e9));
            }
        }
        return out;
    }

    private static void row(String what, double seconds, double all) {
        System.out.printf(Locale.ROOT, "| %s | %.2f | %.1f %% |%n", what, seconds, all > 0 ? 100 * seconds / all : 0);
    }
}
