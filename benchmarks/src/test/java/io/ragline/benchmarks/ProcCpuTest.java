package io.ragline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

@EnabledOnOs(OS.LINUX)
class ProcCpuTest {
    private static final long SELF = ProcessHandle.current().pid();

    @Test
    void aThreadThatSpinsIsCountedUnderItsNameWithoutDigits() throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        Thread spinner = new Thread(
                () -> {
                    long x = 0;
                    while (stop.getCount() > 0) {
                        x += System.nanoTime() % 7;
                    }
                    if (x == 42) {
                        System.out.print("");
                    }
                },
                "spin42");
        spinner.start();
        try {
            // this thread sleeps while the spinner runs, so the two do not compete for a core
            long until = System.nanoTime() + 10_000_000_000L;
            Map<String, Double> threads = ProcCpu.threads(SELF);
            while (threads.getOrDefault("spin", 0.0) <= 0.05 && System.nanoTime() < until) {
                Thread.sleep(50);
                threads = ProcCpu.threads(SELF);
            }
            assertThat(threads).containsKey("spin").doesNotContainKey("spin42");
            assertThat(threads.get("spin")).isGreaterThan(0.05);
        } finally {
            stop.countDown();
            spinner.join();
        }
    }

    @Test
    void theMachineCountsSecondsOnEachOfItsCpusAndIsAtLeastAsBusyAsThisProcess() throws Exception {
        double[] before = ProcCpu.machine();
        long start = System.nanoTime();
        Thread.sleep(1000);
        double[] after = ProcCpu.machine();
        double elapsed = (System.nanoTime() - start) / 1e9;

        // seconds, not clock ticks: every CPU counts one second of some state per second
        assertThat((after[1] - before[1]) / (elapsed * ProcCpu.cpus())).isBetween(0.75, 1.25);
        assertThat(after[1]).isGreaterThanOrEqualTo(after[0]);
        assertThat(after[0]).isGreaterThanOrEqualTo(after[2]);
        assertThat(after[0]).isGreaterThanOrEqualTo(ProcCpu.seconds(SELF));
        assertThat(ProcCpu.ownSeconds(SELF)).isPositive();
    }

    @Test
    void aProcessThatIsGoneHasNoTimeAndAnArgumentNobodyRunsFindsNoProcess() {
        assertThat(ProcCpu.seconds(Long.MAX_VALUE)).isZero();
        assertThat(ProcCpu.pidsWithArgument("no-such-argument-" + SELF)).isEmpty();
    }

    @Test
    void aChildProcessIsFoundByItsArgument() throws Exception {
        String marker = "ragline-proc-cpu-test-" + SELF;
        // the marker is the shell's $0, an argument of its command line; "; true" keeps the shell
        // from handing its process to sleep
        Process sleeper = new ProcessBuilder("sh", "-c", "sleep 30; true", marker).start();
        try {
            long until = System.nanoTime() + 5_000_000_000L;
            long[] found = ProcCpu.pidsWithArgument(marker);
            while (found.length == 0 && System.nanoTime() < until) {
                Thread.sleep(20);
                found = ProcCpu.pidsWithArgument(marker);
            }
            assertThat(found).containsExactly(sleeper.pid());
        } finally {
            sleeper.destroyForcibly().waitFor();
        }
    }
}
