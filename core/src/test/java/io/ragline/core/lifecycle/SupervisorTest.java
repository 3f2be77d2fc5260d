package io.ragline.core.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** Real threads, supervised: how each way of ending is told apart. */
class SupervisorTest {
    static final Duration WAIT = Duration.ofSeconds(10);

    final List<Throwable> fatal = new CopyOnWriteArrayList<>();
    final Supervisor supervisor = new Supervisor(fatal::add);

    @Test
    void aThreadKilledByAnErrorIsNamedInReadinessAndStopsTheProcessOnce() throws Exception {
        StackOverflowError error = new StackOverflowError("deep");
        Supervisor.Supervised thread = supervisor.start(
                "worker-0",
                () -> {
                    throw error;
                },
                () -> {});

        thread.thread().join(WAIT.toMillis());

        assertThat(supervisor.problem()).hasValue("worker-0 died: StackOverflowError: deep");
        assertThat(fatal).containsExactly(error);
    }

    @Test
    void aThreadThatReturnsWhileNotAskedToStopHasDied() throws Exception {
        Supervisor.Supervised thread = supervisor.start("scheduler", () -> {}, () -> {});

        thread.thread().join(WAIT.toMillis());

        assertThat(supervisor.problem()).hasValue("scheduler died: returned while not asked to stop");
        assertThat(fatal).singleElement().isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aThreadAskedToStopHasStoppedNotDiedEvenIfItThrowsOnTheWayOut() throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        Supervisor.Supervised thread = supervisor.start(
                "relay",
                () -> {
                    try {
                        stop.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    throw new IllegalStateException("connection closed under it");
                },
                stop::countDown);

        assertThat(thread.stop(WAIT)).isTrue();

        assertThat(supervisor.problem()).isEmpty();
        assertThat(fatal).isEmpty();
    }

    @Test
    void aTaskReportingItsOwnDeathIsReportedOnceThoughItsThreadThenEnds() throws Exception {
        IllegalStateException cause = new IllegalStateException("writing a batch: relation does not exist");
        Supervisor.Supervised thread = supervisor.start("loop-0", () -> supervisor.died("loop-0", cause), () -> {});

        thread.thread().join(WAIT.toMillis());

        assertThat(supervisor.problem())
                .hasValue("loop-0 died: IllegalStateException: writing a batch: relation does not exist");
        assertThat(fatal).containsExactly(cause);
    }

    @Test
    void aLiveThreadIsNoProblemAndEveryDeadOneIsNamed() throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        Supervisor.Supervised alive = supervisor.start(
                "alive",
                () -> {
                    try {
                        stop.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                stop::countDown);
        assertThat(supervisor.problem()).isEmpty();

        supervisor.start("a", () -> {}, () -> {});
        supervisor.start(
                "b",
                () -> {
                    throw new AssertionError("broken");
                },
                () -> {});

        await().atMost(WAIT).until(() -> fatal.size() == 2);
        assertThat(supervisor.problem().orElseThrow())
                .contains("a died: returned while not asked to stop")
                .contains("b died: AssertionError: broken")
                .doesNotContain("alive");
        assertThat(alive.stop(WAIT)).isTrue();
    }

    @Test
    void aTaskReportingItsDeathAfterItWasAskedToStopHasStoppedNotDied() throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        Supervisor.Supervised thread = supervisor.start(
                "loop-1",
                () -> {
                    try {
                        stop.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    // the loop's fatal path fires on the way out of a clean stop (a closed consumer)
                    supervisor.died("loop-1", new IllegalStateException("consumer closed"));
                },
                stop::countDown);

        assertThat(thread.stop(WAIT)).isTrue();

        assertThat(supervisor.problem()).isEmpty();
        assertThat(fatal).isEmpty();
    }

    @Test
    void stoppingAllAsksEveryThreadAtOnceAndWaitsAgainstOneDeadline() throws Exception {
        CountDownLatch asked = new CountDownLatch(2);
        Runnable ignoresStop = () -> {
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        Supervisor.Supervised first = supervisor.start("first", ignoresStop, asked::countDown);
        Supervisor.Supervised second = supervisor.start("second", ignoresStop, asked::countDown);
        long started = System.nanoTime();

        List<String> running = supervisor.stopAll(Instant.now().plusSeconds(1));

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(1800));
        assertThat(asked.getCount()).isZero();
        assertThat(running).containsExactly("first", "second");
        assertThatThrownBy(() -> supervisor.start("late", () -> {}, () -> {}))
                .isInstanceOf(Supervisor.StoppingException.class)
                .hasMessage("not starting late: the process is stopping");
        first.thread().interrupt();
        second.thread().interrupt();
        assertThat(fatal).isEmpty();
    }
}
