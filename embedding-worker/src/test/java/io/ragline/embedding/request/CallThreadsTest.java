package io.ragline.embedding.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

/**
 * The hand-off wait happens on the consumer thread before the serving calls, so it is bounded by
 * the non-serving deadline and paid once, not once per refused model.
 */
class CallThreadsTest {
    @Test
    void withEveryThreadBusyTheFirstCallWaitsAShortDeadlineAndTheNextAreRefusedAtOnce() throws Exception {
        CallThreads threads = new CallThreads(1, Duration.ofMillis(300));
        CountDownLatch release = new CountDownLatch(1);
        try {
            occupyEveryThread(threads, release);

            long first = refusedAfterNanos(threads);
            long second = refusedAfterNanos(threads);
            long third = refusedAfterNanos(threads);

            assertThat(Duration.ofNanos(first)).isGreaterThanOrEqualTo(Duration.ofMillis(280));
            assertThat(Duration.ofNanos(second + third))
                    .as("the next models' refusals do not wait again (twice the deadline if they did)")
                    .isLessThan(Duration.ofMillis(300));
        } finally {
            release.countDown();
            threads.close();
        }
    }

    @Test
    void theWaitIsTheHandOffsWhenTheDeadlineIsLonger() {
        CallThreads threads = new CallThreads(1, Duration.ofSeconds(30));
        CountDownLatch release = new CountDownLatch(1);
        try {
            occupyEveryThread(threads, release);

            assertThat(Duration.ofNanos(refusedAfterNanos(threads)))
                    .isGreaterThanOrEqualTo(CallThreads.HANDOFF.minusMillis(20))
                    .isLessThan(Duration.ofSeconds(10));
        } finally {
            release.countDown();
            threads.close();
        }
    }

    /** Every thread runs a call that ends when {@code release} is counted down. */
    private static void occupyEveryThread(CallThreads threads, CountDownLatch release) {
        for (int i = 0; i < CallThreads.CALLS_PER_CONSUMER; i++) {
            threads.execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
    }

    private static long refusedAfterNanos(CallThreads threads) {
        long began = System.nanoTime();
        assertThatThrownBy(() -> threads.execute(() -> {})).isInstanceOf(RejectedExecutionException.class);
        return System.nanoTime() - began;
    }
}
