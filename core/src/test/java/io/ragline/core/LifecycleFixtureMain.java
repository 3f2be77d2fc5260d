package io.ragline.core;

import static org.awaitility.Awaitility.await;

import io.ragline.core.config.Env;
import io.ragline.core.lifecycle.Lifecycle;
import io.ragline.core.lifecycle.Supervisor;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * A worker process for tests of how a process starts and stops: its wiring, chosen by FIXTURE_MODE,
 * misbehaves in one way. Every supervised thread here is a non-daemon thread that would keep the
 * JVM alive if nothing stopped it.
 */
public final class LifecycleFixtureMain {
    private LifecycleFixtureMain() {}

    public static void main(String[] args) {
        String mode = System.getenv("FIXTURE_MODE");
        System.exit(WorkerMain.run("lifecycle", 0, Env.load(), wiring(mode)));
    }

    private static Consumer<WorkerRuntime> wiring(String mode) {
        return switch (mode) {
            case "idle" -> runtime -> {}; // ready once the runtime started: for tests of start-up itself
            case "error-while-wiring" ->
                runtime -> {
                    waitingThread(runtime, "waiting-0");
                    throw new UnsatisfiedLinkError("no libfixture in java.library.path");
                };
            case "part-hangs-after-fatal" ->
                runtime -> {
                    runtime.manage(() -> new CountDownLatch(1).await()); // never returns
                    runtime.supervise(
                            "doomed",
                            () -> {
                                throw new IllegalStateException("doomed thread failed");
                            },
                            () -> {});
                };
            case "threads-ignore-stop" ->
                runtime -> {
                    for (int i = 0; i < 3; i++) {
                        runtime.supervise("stubborn-" + i, LifecycleFixtureMain::untilExit, () -> {});
                    }
                };
            case "wiring-outlives-close" ->
                runtime -> {
                    System.out.println("fixture: wiring");
                    await().atMost(Duration.ofMinutes(1)).until(() -> runtime.state() == Lifecycle.State.STOPPED);
                    runtime.manage(() -> System.out.println("fixture: late part closed"));
                    try {
                        runtime.supervise("late", () -> System.out.println("fixture: late thread ran"), () -> {});
                    } catch (Supervisor.StoppingException e) {
                        System.out.println("fixture: refused: " + e.getMessage());
                    }
                };
            default -> throw new IllegalArgumentException("FIXTURE_MODE " + mode);
        };
    }

    private static void waitingThread(WorkerRuntime runtime, String name) {
        CountDownLatch stop = new CountDownLatch(1);
        runtime.supervise(
                name,
                () -> {
                    try {
                        stop.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                },
                stop::countDown);
    }

    /** A body that ignores its stop request: it ends only with the JVM. */
    private static void untilExit() {
        try {
            new CountDownLatch(1).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
