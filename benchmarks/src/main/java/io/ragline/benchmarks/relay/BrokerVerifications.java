package io.ragline.benchmarks.relay;

import com.sun.tools.attach.VirtualMachine;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * The broker's own count of transaction verifications (KIP-890: a transactional produce request's
 * partitions are checked with the coordinator before the append), read over JMX from a broker JVM
 * on this machine, by pid: {@code kafka.server:type=AddPartitionsToTxnManager}'s {@code
 * VerificationTimeMs} (one per verification) and {@code VerificationFailureRate} (partitions whose
 * verification failed). A produce request whose transaction's previous one still writes its markers
 * is answered {@code CONCURRENT_TRANSACTIONS} and tried again {@code
 * add.partitions.to.txn.retry.backoff.ms} later (20 ms by default): the failures are those waits.
 * Only the event-dispatcher uses transactions in the relay benchmark, and only the relay whose
 * round runs has rows to publish, so the counts of a round are that relay's. Several pids
 * (comma-separated: each broker of a cluster on this machine) are summed, since each partition's
 * leader verifies its own.
 */
public final class BrokerVerifications implements AutoCloseable {
    private final List<VirtualMachine> vms = new ArrayList<>();
    private final List<JMXConnector> connectors = new ArrayList<>();
    private final List<MBeanServerConnection> servers = new ArrayList<>();
    private final ObjectName failed;
    private final ObjectName timed;
    private long failedBefore;
    private long verifiedBefore;

    private BrokerVerifications(long[] pids) throws Exception {
        failed = new ObjectName("kafka.server:type=AddPartitionsToTxnManager,name=VerificationFailureRate");
        timed = new ObjectName("kafka.server:type=AddPartitionsToTxnManager,name=VerificationTimeMs");
        try {
            for (long pid : pids) {
                VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
                vms.add(vm);
                JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(vm.startLocalManagementAgent()));
                connectors.add(connector);
                servers.add(connector.getMBeanServerConnection());
            }
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    /**
     * The brokers of JVMs {@code pids} (comma-separated), or null when {@code pids} is null or blank
     * (not asked for).
     */
    public static BrokerVerifications attach(String pids) throws Exception {
        long[] each = pids(pids);
        return each.length == 0 ? null : new BrokerVerifications(each);
    }

    /** The process ids in {@code pids} ({@code -Drelay.brokerPid}: comma-separated); none when null or blank. */
    public static long[] pids(String pids) {
        return pids == null
                ? new long[0]
                : java.util.Arrays.stream(pids.split(","))
                        .map(String::strip)
                        .filter(pid -> !pid.isEmpty())
                        .mapToLong(Long::parseLong)
                        .toArray();
    }

    /** Starts a round: remembers the counts as they are now. */
    public void mark() throws Exception {
        failedBefore = count(failed);
        verifiedBefore = count(timed);
    }

    /** Since {@link #mark()}: the verifications, and the partitions whose verification failed. */
    public long[] counts() throws Exception {
        return new long[] {count(timed) - verifiedBefore, count(failed) - failedBefore};
    }

    /** What happened since {@link #mark()}, in one line. */
    public String sinceMark() throws Exception {
        long[] c = counts();
        return String.format(
                Locale.ROOT,
                "broker: %,d transaction verifications, %,d partitions' failed (each tried again after the backoff)",
                c[0],
                c[1]);
    }

    private long count(ObjectName name) throws Exception {
        long sum = 0;
        for (MBeanServerConnection server : servers) {
            sum += ((Number) server.getAttribute(name, "Count")).longValue();
        }
        return sum;
    }

    @Override
    public void close() throws Exception {
        for (JMXConnector connector : connectors) {
            connector.close();
        }
        for (VirtualMachine vm : vms) {
            vm.detach();
        }
    }
}
