package io.ragline.benchmarks.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MeasuredTest {
    @Test
    void drainsAreComparedOneByOneAndNoDrainsSaySo() {
        Measured r = new Measured();
        Measured d = new Measured();
        r.drain(60_000, 40_000);
        d.drain(20_000, 30_000);
        r.drain(90_000, 50_000);
        d.drain(45_000, 30_000);

        String both = printed(() -> Measured.printDrains("ragline-3", r, "debezium", d, 20_000));
        String none = printed(() -> Measured.printDrains("ragline-3", new Measured(), "debezium", d, 20_000));

        // ratios 3.0 and 2.0: median 2.5, min 2, max 3
        assertThat(both).contains("2 drains each").contains("median 2.50x (2.00-3.00)");
        assertThat(none).contains("no drains to compare");
    }

    @Test
    void roundsAreComparedRoundByRoundPerRate() {
        Measured r = new Measured();
        Measured d = new Measured();
        r.round(500, new double[] {5, 10, 20, 30});
        d.round(500, new double[] {10, 20, 40, 50});

        String out = printed(() -> Measured.printRatios("ragline-3", r, "debezium", d, new int[] {500}));

        assertThat(out).contains("| 500/s | p99 | 20.0 | 40.0 | 0.50 (0.50-0.50) |");
    }

    private static String printed(Runnable print) {
        PrintStream out = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            print.run();
        } finally {
            System.setOut(out);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
