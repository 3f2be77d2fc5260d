package io.ragline.core.lifecycle;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a process runs a long-lived thread (a poll loop, the outbox relay and its lease
 * heartbeat, a scheduler). A supervised thread that ends while nobody asked it to stop, whether it
 * threw (an {@link Error} included) or returned, has <em>died</em>: the supervisor logs it once at
 * ERROR, names it in {@link #problem()} (so {@code /health/ready} answers 503) and hands the cause
 * to the process's fatal path, which stops the process with exit status 1. A thread that ends
 * after {@link Supervised#stop()} has simply stopped.
 */
public final class Supervisor {
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    private final Consumer<Throwable> fatal;
    /** Dead threads by name, with why, in the order they died. */
    private final Map<String, String> deaths = new LinkedHashMap<>();
    /** Every thread started, in order. */
    private final List<Supervised> threads = new ArrayList<>();
    /** Set by {@link #stopAll}: no thread starts after it. */
    private boolean stopping;

    /** {@code fatal} stops the process (the runtime's {@code fail}); it is called once per death. */
    public Supervisor(Consumer<Throwable> fatal) {
        this.fatal = fatal;
    }

    /**
     * Starts {@code body} on a new thread named {@code name}; {@code stop} asks it to end (it sets
     * a flag, wakes the thread up) and must not block.
     *
     * @throws StoppingException once {@link #stopAll} has begun: the thread is not started
     */
    public synchronized Supervised start(String name, Runnable body, Runnable stop) {
        if (stopping) {
            throw new StoppingException(name);
        }
        Supervised supervised = new Supervised(name, body, stop);
        threads.add(supervised);
        supervised.thread.start();
        return supervised;
    }

    /**
     * The fatal path of a task that logs its own failure before it ends (a {@code PollLoop}): the
     * thread {@code name} has died of {@code cause}. Call it before the thread ends, so readiness
     * names the thread whatever happens next. Ignored once the thread was asked to stop: a
     * failure on the way out of a clean stop is no death.
     */
    public void died(String name, Throwable cause) {
        boolean stopAsked;
        synchronized (this) {
            stopAsked = threads.stream().anyMatch(s -> s.name.equals(name) && s.stopAsked);
        }
        if (stopAsked) {
            log.warn("{} failed while stopping: {}", name, cause.toString());
            return;
        }
        record(name, cause, false);
    }

    /**
     * Asks every thread to stop, all at once, then waits for them all until {@code deadline}
     * (one deadline, not one per thread). No thread starts after this begins. Returns the names
     * of the threads still running at the deadline.
     */
    public List<String> stopAll(Instant deadline) throws InterruptedException {
        List<Supervised> all;
        synchronized (this) {
            stopping = true;
            all = new ArrayList<>(threads);
        }
        all.forEach(Supervised::stop);
        List<String> running = new ArrayList<>();
        for (Supervised s : all) {
            long left = Duration.between(Instant.now(), deadline).toMillis();
            s.thread.join(Math.max(1, left));
            if (s.thread.isAlive()) {
                running.add(s.name);
            }
        }
        return running;
    }

    /** Every dead thread and why, for readiness; empty while none has died. */
    public synchronized Optional<String> problem() {
        if (deaths.isEmpty()) {
            return Optional.empty();
        }
        List<String> each = new ArrayList<>();
        deaths.forEach((name, why) -> each.add(name + " died: " + why));
        return Optional.of(String.join("; ", each));
    }

    private void record(String name, Throwable cause, boolean logIt) {
        synchronized (this) {
            if (deaths.containsKey(name)) {
                return; // reported already (a task's own fatal path, then its thread ending)
            }
            deaths.put(
                    name,
                    cause instanceof ThreadEnded
                            ? "returned while not asked to stop"
                            : cause.getClass().getSimpleName() + ": " + cause.getMessage());
        }
        if (logIt && cause instanceof ThreadEnded) {
            log.error("{} died: it returned while not asked to stop", name);
        } else if (logIt) {
            log.error("{} died: {}", name, cause.toString(), cause);
        }
        fatal.accept(cause);
    }

    /** A thread the supervisor watches. */
    public final class Supervised {
        private final String name;
        private final Runnable stop;
        private final Thread thread;
        private volatile boolean stopAsked;

        private Supervised(String name, Runnable body, Runnable stop) {
            this.name = name;
            this.stop = stop;
            this.thread = new Thread(() -> watch(body), name);
        }

        private void watch(Runnable body) {
            try {
                body.run();
            } catch (Throwable e) { // an Error included: the thread ends either way, never quietly
                ended(e);
                return;
            }
            ended(null);
        }

        private void ended(Throwable thrown) {
            if (stopAsked) {
                if (thrown != null) {
                    log.warn("{} failed while stopping: {}", name, thrown.toString());
                }
                return;
            }
            record(name, thrown != null ? thrown : new ThreadEnded(name), true);
        }

        public String name() {
            return name;
        }

        public Thread thread() {
            return thread;
        }

        /** Asks the thread to stop; it has not died when it ends after this. */
        public void stop() {
            stopAsked = true;
            stop.run();
        }

        /** Stops the thread and waits at most {@code timeout} for it; true when it has ended. */
        public boolean stop(Duration timeout) throws InterruptedException {
            stop();
            thread.join(Math.max(1, timeout.toMillis()));
            return !thread.isAlive();
        }
    }

    /** A thread that was to start after stopping began: the process is closing. */
    public static final class StoppingException extends IllegalStateException {
        public StoppingException(String name) {
            super("not starting " + name + ": the process is stopping");
        }
    }

    /** A supervised body returned although nobody asked it to stop. */
    static final class ThreadEnded extends IllegalStateException {
        ThreadEnded(String name) {
            super(name + " returned while not asked to stop");
        }
    }
}
