package io.ragline.benchmarks.relay;

import io.ragline.benchmarks.ProcCpu;
import java.util.Locale;

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
        this.relay = ProcCpu.seconds(relayPid);
        double b = 0;
        for (long pid : brokerPids) {
            b += ProcCpu.seconds(pid);
        }
        this.broker = b;
        this.postgres = ProcCpu.postgres();
        double[] m = ProcCpu.machine();
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
}
