package io.ragline.benchmarks.relay;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Where a round's CPU went, from {@code /proc} (Linux): one relay's JVM, the Kafka brokers (when
 * their pids are known), every Postgres process, and the whole machine (steal counted as busy). The
 * relays take their rounds one at a time, so a round's broker and Postgres time is mostly that
 * relay's traffic (with the benchmark's own writers and consumer, the same for every relay; every
 * relay's JVM stays up, and a Debezium relay's WAL sender decodes every relay's rows). Per 1,000 rows relayed, the figures compare how much of the
 * machine each relay's way of publishing costs, which on a machine whose cores are all busy is
 * what sets its latency.
 */
public final class CpuAccount {
    private static final double TICKS_PER_SECOND = ticksPerSecond();

    private final long relayPid;
    private final long[] brokerPids;
    private final double relay;
    private final double broker;
    private final double postgres;
    private final double machineBusy;
    private final double machineAll;

    private CpuAccount(long relayPid, long[] brokerPids) {
        this.relayPid = relayPid;
        this.brokerPids = brokerPids;
        this.relay = seconds(relayPid);
        double b = 0;
        for (long pid : brokerPids) {
            b += seconds(pid);
        }
        this.broker = b;
        this.postgres = postgres();
        double[] m = machine();
        this.machineBusy = m[0];
        this.machineAll = m[1];
    }

    /**
     * The CPU times as they are now, of the relay {@code relayPid} and the brokers {@code brokerPids}
     * ({@link BrokerVerifications#pids}; empty: none).
     */
    public static CpuAccount mark(long relayPid, long[] brokerPids) {
        return new CpuAccount(relayPid, brokerPids);
    }

    /** One line: the CPU seconds each used since {@link #mark}, and per 1,000 of {@code rows}. */
    public String since(long rows) {
        CpuAccount now = new CpuAccount(relayPid, brokerPids);
        double r = now.relay - relay;
        double b = now.broker - broker;
        double p = now.postgres - postgres;
        double busy = now.machineBusy - machineBusy;
        double all = now.machineAll - machineAll;
        double per = rows > 0 ? 1000.0 / rows : 0;
        return String.format(
                Locale.ROOT,
                "cpu s: relay %.2f, broker %s, postgres %.2f; per 1,000 rows: relay %.3f, broker %s, postgres %.3f;"
                        + " machine busy %.0f %%",
                r,
                brokerPids.length == 0 ? "-" : String.format(Locale.ROOT, "%.2f", b),
                p,
                r * per,
                brokerPids.length == 0 ? "-" : String.format(Locale.ROOT, "%.3f", b * per),
                p * per,
                all > 0 ? 100 * busy / all : 0);
    }

    /** User and system CPU seconds of {@code pid} and its reaped children; 0 when it is gone. */
    static double seconds(long pid) {
        long[] t = times(Path.of("/proc", Long.toString(pid), "stat"));
        return t == null ? 0 : (t[0] + t[1] + t[2] + t[3]) / TICKS_PER_SECOND;
    }

    /**
     * Every process named {@code postgres}: their own time, and the time of the children they reaped
     * (a backend that exits moves its time into the postmaster's), so the sum does not drop when a
     * connection closes.
     */
    static double postgres() {
        double sum = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path dir : (Iterable<Path>) procs::iterator) {
                String name = dir.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
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
        } catch (IOException e) {
            return 0;
        }
        return sum;
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

    /** The whole machine's busy and total jiffies since boot, from the first line of /proc/stat. */
    private static double[] machine() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            double all = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                all += Double.parseDouble(f[i]);
            }
            double idle = Double.parseDouble(f[4]) + Double.parseDouble(f[5]);
            return new double[] {all - idle, all};
        } catch (IOException | RuntimeException e) {
            return new double[] {0, 0};
        }
    }

    private static double ticksPerSecond() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
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
