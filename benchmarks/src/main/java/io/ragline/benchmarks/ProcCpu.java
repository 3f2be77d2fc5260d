package io.ragline.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * CPU seconds as Linux's {@code /proc} counts them: of a process, of its threads, of every Postgres
 * process, of the whole machine. Every figure is a running total; a benchmark reads it before and
 * after what it measures. Off Linux every figure is 0.
 */
public final class ProcCpu {
    private static final double TICKS_PER_SECOND = ticksPerSecond();

    private ProcCpu() {}

    /** User and system CPU seconds of {@code pid} and its reaped children; 0 when it is gone. */
    public static double seconds(long pid) {
        long[] t = times(Path.of("/proc", Long.toString(pid), "stat"));
        return t == null ? 0 : (t[0] + t[1] + t[2] + t[3]) / TICKS_PER_SECOND;
    }

    /**
     * Every process named {@code postgres}: their own time, and the time of the children they reaped
     * (a backend that exits moves its time into the postmaster's), so the sum does not drop when a
     * connection closes.
     */
    public static double postgres() {
        double sum = 0;
        for (Path dir : processes()) {
            try {
                if (!Files.readString(dir.resolve("comm")).strip().equals("postgres")) {
                    continue;
                }
            } catch (IOException gone) {
                continue;
            }
            long[] t = times(dir.resolve("stat"));
            if (t != null) {
                sum += (t[0] + t[1] + t[2] + t[3]) / TICKS_PER_SECOND;
            }
        }
        return sum;
    }

    /** The processes whose command line has the argument {@code argument} ({@code kafka.Kafka}: the brokers). */
    public static long[] pidsWithArgument(String argument) {
        List<Long> pids = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        for (Path dir : processes()) {
            try {
                String[] args =
                        new String(Files.readAllBytes(dir.resolve("cmdline")), StandardCharsets.UTF_8).split("\0");
                long pid = Long.parseLong(dir.getFileName().toString());
                if (pid != self && List.of(args).contains(argument)) {
                    pids.add(pid);
                }
            } catch (IOException | RuntimeException gone) {
                // a process that ended meanwhile, or one this user may not read
            }
        }
        return pids.stream().mapToLong(Long::longValue).toArray();
    }

    /** A thread's name (as Linux keeps it: 15 characters) and its user and system CPU seconds. */
    public record TaskTime(String name, double seconds) {}

    /** Each live thread of {@code pid} by its thread id: its name and CPU seconds (user and system). */
    public static Map<Long, TaskTime> tasks(long pid) {
        Map<Long, TaskTime> out = new HashMap<>();
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        try (Stream<Path> list = Files.list(tasks)) {
            for (Path task : (Iterable<Path>) list::iterator) {
                try {
                    String name = Files.readString(task.resolve("comm")).strip();
                    long[] t = times(task.resolve("stat"));
                    if (t != null) {
                        out.put(
                                Long.parseLong(task.getFileName().toString()),
                                new TaskTime(name, (t[0] + t[1]) / TICKS_PER_SECOND));
                    }
                } catch (IOException | NumberFormatException gone) {
                    // the thread ended between the listing and the read
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /**
     * The CPU seconds of each thread of {@code pid}, summed by the thread's name with its digits
     * taken out ({@code onnx-all-MiniLM}, {@code C CompilerThre}, {@code GC Thread#}: Linux keeps
     * 15 characters of a name), so that a pool's threads make one line. Threads that ended are
     * missing: read it while they run.
     */
    public static Map<String, Double> threads(long pid) {
        Map<String, Double> out = new TreeMap<>();
        for (TaskTime t : tasks(pid).values()) {
            out.merge(t.name().replaceAll("[0-9]+", ""), t.seconds(), Double::sum);
        }
        return out;
    }

    /** User and system CPU seconds of {@code pid}'s own threads, without its reaped children; 0 when it is gone. */
    public static double ownSeconds(long pid) {
        long[] t = times(Path.of("/proc", Long.toString(pid), "stat"));
        return t == null ? 0 : (t[0] + t[1]) / TICKS_PER_SECOND;
    }

    /**
     * The whole machine's CPU seconds since boot, from the first line of {@code /proc/stat}: busy
     * (steal counted as busy), all, and steal (time the hypervisor gave another guest, which no
     * process of this machine used).
     */
    public static double[] machine() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            double all = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                all += Double.parseDouble(f[i]);
            }
            double idle = Double.parseDouble(f[4]) + Double.parseDouble(f[5]);
            double steal = Double.parseDouble(f[8]);
            return new double[] {(all - idle) / TICKS_PER_SECOND, all / TICKS_PER_SECOND, steal / TICKS_PER_SECOND};
        } catch (IOException | RuntimeException e) {
            return new double[] {0, 0, 0};
        }
    }

    /** The CPUs {@code /proc/stat} counts ({@code cpuN} lines), whose seconds {@link #machine} sums. */
    public static int cpus() {
        try {
            return (int) Files.readAllLines(Path.of("/proc/stat")).stream()
                    .filter(l -> l.matches("cpu[0-9]+ .*"))
                    .count();
        } catch (IOException e) {
            return 0;
        }
    }

    private static List<Path> processes() {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** utime, stime, cutime, cstime in clock ticks (fields 14-17 of proc(5)), or null. */
    private static long[] times(Path stat) {
        try {
            String s = Files.readString(stat);
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            // f[0] is field 3 (state): utime is field 14.
            return new long[] {
                Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[13]), Long.parseLong(f[14])
            };
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static double ticksPerSecond() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor();
            return Double.parseDouble(out);
        } catch (IOException | RuntimeException e) {
            return 100; // Linux's USER_HZ everywhere it is not configured otherwise
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
