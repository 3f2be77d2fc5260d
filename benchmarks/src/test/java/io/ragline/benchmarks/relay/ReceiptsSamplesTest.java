package io.ragline.benchmarks.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReceiptsSamplesTest {
    private static final long MS = 1_000_000L;

    @Test
    void theSlowestRowsAreSplitAtTheirSend() {
        // 100 rows: 99 of 10 ms (4 before the send, 6 after), and one of 90 ms (80 before, 10 after)
        long[] latencies = new long[100];
        long[] afterSend = new long[100];
        long[] inserted = new long[100];
        for (int i = 0; i < 100; i++) {
            latencies[i] = 10 * MS;
            afterSend[i] = 6 * MS;
            inserted[i] = 1_000_000L * i;
        }
        latencies[37] = 90 * MS;
        afterSend[37] = 10 * MS;
        Receipts.Samples samples = new Receipts.Samples(latencies, afterSend, inserted);

        assertThat(samples.medianSplitAtOrAbove(0)).containsExactly(4.0, 6.0);
        int[] slowest = samples.atOrAbove(0.99);
        assertThat(slowest).hasSize(2).endsWith(37);
        assertThat(samples.medianSplitAtOrAbove(0.995)).containsExactly(80.0, 10.0);
    }

    @Test
    void theSlowestRowsAreThoseAtOrAboveTheNearestRankPrinted() {
        // 150 rows of 1..150 ms: the printed p99 is the 149th (ceil(0.99 * 150)), so two rows
        long[] latencies = new long[150];
        long[] afterSend = new long[150];
        for (int i = 0; i < 150; i++) {
            latencies[i] = (i + 1) * MS;
            afterSend[i] = MS;
        }
        Receipts.Samples samples = new Receipts.Samples(latencies, afterSend, new long[150]);

        assertThat(samples.atOrAbove(0.99)).containsExactly(148, 149);
        assertThat(samples.atOrAbove(0)).hasSize(150);
    }

    @Test
    void rowsWithoutTheProducersStampAreLeftOutOfTheSplit() {
        long[] latencies = {10 * MS, 20 * MS, 30 * MS};
        long[] afterSend = {6 * MS, Receipts.UNKNOWN, 8 * MS};
        Receipts.Samples samples = new Receipts.Samples(latencies, afterSend, new long[3]);

        assertThat(samples.medianSplitAtOrAbove(0)).containsExactly(22.0, 8.0);
    }

    @Test
    void theSlowestRowsAreWrittenInTheOrderTheyWereInserted(@TempDir Path dir) throws Exception {
        long[] latencies = {5 * MS, 50 * MS, 40 * MS};
        long[] afterSend = {MS, 30 * MS, Receipts.UNKNOWN};
        long[] inserted = {3_000_000L, 2_000_000L, 1_000_000L}; // seconds 3, 2, 1 after the epoch
        Path file = dir.resolve("slow.tsv");

        new Receipts.Samples(latencies, afterSend, inserted).writeAtOrAbove(0.5, file);

        assertThat(Files.readAllLines(file))
                .containsExactly(
                        "inserted\tbefore_send_ms\tafter_send_ms\tlatency_ms",
                        "1970-01-01T00:00:01Z\tNaN\tNaN\t40.0",
                        "1970-01-01T00:00:02Z\t20.0\t30.0\t50.0");
    }

    @Test
    void noRowsGiveNoSplit() {
        Receipts.Samples samples = new Receipts.Samples(new long[0], new long[0], new long[0]);

        assertThat(samples.atOrAbove(0.99)).isEmpty();
        double[] split = samples.medianSplitAtOrAbove(0.99);
        assertThat(split).hasSize(2);
        assertThat(Double.isNaN(split[0]) && Double.isNaN(split[1])).isTrue();
    }
}
