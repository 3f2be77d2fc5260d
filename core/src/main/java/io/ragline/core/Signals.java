package io.ragline.core;

import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT as a request to stop cleanly. A JVM left to its default handling exits with
 * 143 after a SIGTERM; handling the signal lets the process close everything and exit 0, as
 * docs/architecture.md guarantee 6 promises. A second signal while closing exits at once.
 */
final class Signals {

    private Signals() {}

    /**
     * Runs {@code close} at SIGTERM / SIGINT (its own bound is the runtime's watchdog). Where the
     * signals cannot be handled, a shutdown hook runs {@code close}.
     */
    static void closeOnTermination(String processName, Runnable close) {
        if (!onTermination(processName, close)) {
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
