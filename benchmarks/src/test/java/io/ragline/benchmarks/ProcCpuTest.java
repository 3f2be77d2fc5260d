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
            long until = System.nanoTime() + 400_000_000L;
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            Map<String, Double> threads = ProcCpu.threads(SELF);
            assertThat(threads).containsKey("spin").doesNotContainKey("spin42");
            assertThat(threads.get("spin")).isGreaterThan(0.05);
        } finally {
            stop.countDown();
            spinner.join();
        }
    }

    @Test
    void theProcessAndTheMachineCountUpAndTheMachineIsAtLeastAsBusyAsTheProcess() {
        double self = ProcCpu.seconds(SELF);
        double[] machine = ProcCpu.machine();

        assertThat(self).isPositive();
        assertThat(machine[1]).isGreaterThanOrEqualTo(machine[0]);
        assertThat(machine[0]).isGreaterThanOrEqualTo(self);
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
