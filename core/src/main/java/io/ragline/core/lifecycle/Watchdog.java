package io.ragline.core.lifecycle;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The time bound on closing a process: armed once, when the process first moves to stopping
 * (whether a signal, a fatal failure or a call to close moved it), it runs {@code halt} if closing
 * has not finished within the bound. A daemon thread, so it never keeps the JVM alive itself.
 */
public final class Watchdog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Watchdog.class);

    private final Thread thread;

    private Watchdog(String processName, Duration bound, Runnable halt) {
        this.thread = new Thread(
                () -> {
                    try {
                        Thread.sleep(Math.max(1, bound.toMillis()));
                    } catch (InterruptedException e) {
                        return; // disarmed: closing finished in time
                    }
                    log.error("{} did not stop within {}; halting", processName, bound);
                    halt.run();
                },
                processName + "-shutdown-watchdog");
        thread.setDaemon(true);
    }

    /** Starts the bound now: {@code halt} runs after {@code bound} unless {@link #close()} came first. */
    public static Watchdog arm(String processName, Duration bound, Runnable halt) {
        Watchdog watchdog = new Watchdog(processName, bound, halt);
        watchdog.thread.start();
        return watchdog;
    }

    /** Disarms: closing finished in time. */
    @Override
    public void close() {
        thread.interrupt();
    }
}
