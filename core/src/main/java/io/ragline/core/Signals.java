package io.ragline.core;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT as a request to stop cleanly. A JVM left to its default handling exits with
 * 143 after a SIGTERM; handling the signal lets the process close everything and exit 0, as
 * ARCHITECTURE.md section 3.6 promises. A second signal while closing exits at once.
 */
final class Signals {
    private static final Logger log = LoggerFactory.getLogger(Signals.class);

    private Signals() {}

    /**
     * Runs {@code close} at SIGTERM / SIGINT; if it takes longer than {@code bound}, the process
     * halts with 1. Where the signals cannot be handled, a shutdown hook runs {@code close}.
     */
    static void closeOnTermination(String processName, Duration bound, Runnable close) {
        Runnable stop = () -> {
            Thread watchdog = new Thread(
                    () -> {
                        try {
                            Thread.sleep(bound.toMillis());
                            log.error("{} did not stop within {}; halting", processName, bound);
                            Runtime.getRuntime().halt(1);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    },
                    processName + "-shutdown-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
            close.run();
            watchdog.interrupt();
        };
        if (!onTermination(processName, stop)) {
            Runtime.getRuntime().addShutdownHook(new Thread(close, processName + "-shutdown"));
        }
    }

    /** Runs {@code stop} on its own thread at the first signal; true when the handlers are installed. */
    static boolean onTermination(String processName, Runnable stop) {
        AtomicBoolean stopping = new AtomicBoolean();
        try {
            for (String name : new String[] {"TERM", "INT"}) {
                Signal.handle(new Signal(name), signal -> {
                    if (stopping.compareAndSet(false, true)) {
                        Thread t = new Thread(stop, processName + "-stop");
                        t.start();
                    } else {
                        System.err.println(processName + ": second SIG" + signal.getName() + ", exiting now");
                        Runtime.getRuntime().halt(128 + signal.getNumber());
                    }
                });
            }
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return false; // no such signal here: the shutdown hook still closes the runtime
        }
    }
}
