package io.ragline.core.lifecycle;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WatchdogTest {
    final AtomicInteger halts = new AtomicInteger();

    @Test
    void aCloseThatOutlivesTheBoundHalts() {
        Watchdog.arm("slow", Duration.ofMillis(100), halts::incrementAndGet);

        await().atMost(Duration.ofSeconds(10)).until(() -> halts.get() == 1);
    }

    @Test
    void aCloseThatFinishesInTimeDisarmsTheWatchdog() {
        Watchdog watchdog = Watchdog.arm("quick", Duration.ofMillis(300), halts::incrementAndGet);
        watchdog.close();

        await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2)).until(() -> halts.get() == 0);
    }
}
