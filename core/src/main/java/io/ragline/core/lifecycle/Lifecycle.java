package io.ragline.core.lifecycle;

import io.ragline.core.config.ConfigException;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The lifecycle of a worker process, as Debezium's embedded engine keeps its {@code State}: one
 * state at a time, the allowed transitions written once in {@link State#next()}, and every move
 * checked (an illegal one throws). A fatal failure is kept with the state, so the exit code and
 * readiness derive from it.
 */
public final class Lifecycle {
    public enum State {
        /** Being built: settings read, pool, migrations and admin server coming up. */
        CREATED,
        /** The admin server answers; the worker is starting its consumers and servers. */
        STARTING,
        /** Everything started: readiness may hold. */
        RUNNING,
        /** A fatal failure: the process closes and exits 1. */
        FAILED,
        /** Closing every part, in reverse order of creation. */
        STOPPING,
        /** Closed. */
        STOPPED;

        private static final Map<State, Set<State>> NEXT = Map.of(
                CREATED, EnumSet.of(STARTING, STOPPING),
                STARTING, EnumSet.of(RUNNING, FAILED, STOPPING),
                RUNNING, EnumSet.of(FAILED, STOPPING),
                FAILED, EnumSet.of(STOPPING),
                STOPPING, EnumSet.of(STOPPED),
                STOPPED, EnumSet.noneOf(State.class));

        /** The states this one may move to. */
        public Set<State> next() {
            return NEXT.get(this);
        }

        /** Closing has begun: a signal, a fatal failure, or a call to close. */
        public boolean closing() {
            return this == FAILED || this == STOPPING || this == STOPPED;
        }
    }

    private final AtomicReference<State> state = new AtomicReference<>(State.CREATED);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    public State state() {
        return state.get();
    }

    /**
     * Moves to {@code next}, returning the state left.
     *
     * @throws IllegalStateException when the current state does not lead to {@code next}
     */
    public State moveTo(State next) {
        while (true) {
            State current = state.get();
            if (!current.next().contains(next)) {
                throw new IllegalStateException("lifecycle cannot move from " + current + " to " + next);
            }
            if (state.compareAndSet(current, next)) {
                return current;
            }
        }
    }

    /** STARTING to RUNNING; false (nothing moves) when closing began while the worker was starting. */
    public boolean started() {
        return moveUnlessClosing(State.RUNNING);
    }

    /**
     * Records a fatal failure (the first one is kept: it sets the exit code). True when it moved
     * the process to FAILED, so the caller starts closing; false when closing had already begun.
     */
    public boolean fail(Throwable cause) {
        failure.compareAndSet(null, cause);
        return moveUnlessClosing(State.FAILED);
    }

    /** To STOPPING; false when closing is already under way or done (close is idempotent). */
    public boolean stopping() {
        while (true) {
            State current = state.get();
            if (current == State.STOPPING || current == State.STOPPED) {
                return false;
            }
            if (state.compareAndSet(current, State.STOPPING)) {
                return true;
            }
        }
    }

    /** STOPPING to STOPPED. */
    public void stopped() {
        moveTo(State.STOPPED);
    }

    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /**
     * 0 without a fatal failure; 2 when the first one was a configuration problem found after
     * start-up (a {@link ConfigException} from a worker's thread, such as a replication factor the
     * cluster cannot hold when a topic is created), the status a configuration problem found at
     * start-up gives; else 1 (even for a failure that came while stopping).
     */
    public int exitCode() {
        Throwable cause = failure.get();
        if (cause == null) {
            return 0;
        }
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = cause; t != null && seen.add(t); t = t.getCause()) {
            if (t instanceof ConfigException) {
                return 2;
            }
        }
        return 1;
    }

    /** Why the process is not ready, as the lifecycle sees it; empty while RUNNING. */
    public Optional<String> problem() {
        Throwable cause = failure.get();
        if (cause != null) {
            return Optional.of("failed: " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
        }
        return switch (state.get()) {
            case CREATED, STARTING -> Optional.of("starting its consumers and servers");
            case RUNNING -> Optional.empty();
            case FAILED, STOPPING, STOPPED -> Optional.of("stopping");
        };
    }

    /** As {@link #moveTo}, but false (nothing moves) once closing has begun. */
    private boolean moveUnlessClosing(State next) {
        while (true) {
            State current = state.get();
            if (current.closing()) {
                return false;
            }
            if (!current.next().contains(next)) {
                throw new IllegalStateException("lifecycle cannot move from " + current + " to " + next);
            }
            if (state.compareAndSet(current, next)) {
                return true;
            }
        }
    }
}
