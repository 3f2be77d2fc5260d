package io.ragline.dispatcher.outbox;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this dispatcher leads the outbox: one state, its transitions written once in {@link
 * State#next()} and checked. The lease heartbeat moves it ({@link #renewed}, {@link #notRenewed});
 * the relay reads it before a batch's sends, after its producer starts and just before the commit
 * ({@link #leading()}), and gives it up when Kafka fenced its producer ({@link #fenced}). A lease is
 * trusted only until its validity deadline: the start of the renewal that won it plus {@link
 * Lease#trustedFor}; past that, leadership has LAPSED even if no renewal has failed yet (a frozen
 * heartbeat, a slow database), and nothing is published until a renewal succeeds again.
 */
public final class Leadership {
    private static final Logger log = LoggerFactory.getLogger(Leadership.class);

    public enum State {
        /** Another dispatcher holds the lease, or it could not be renewed: publish nothing. */
        STANDBY,
        /** The lease is ours and its last renewal is recent enough to trust: publish. */
        LEADING,
        /** The lease was ours, but its last renewal is past the validity deadline: publish nothing. */
        LAPSED,
        /** The relay is closing: never leads again. */
        STOPPED;

        private static final Map<State, Set<State>> NEXT = Map.of(
                STANDBY, EnumSet.of(LEADING, STOPPED),
                LEADING, EnumSet.of(LEADING, LAPSED, STANDBY, STOPPED),
                LAPSED, EnumSet.of(LEADING, STANDBY, STOPPED),
                STOPPED, EnumSet.noneOf(State.class));

        /** The states this one may move to (LEADING to LEADING is a renewal). */
        public Set<State> next() {
            return NEXT.get(this);
        }
    }

    private final long trustedForNanos;
    private final LongSupplier nanoTime;
    private final OutboxMetrics metrics;
    private final String name;
    private State state = State.STANDBY;
    /** {@link #nanoTime} past which the lease is no longer trusted. */
    private long validUntil;
    /** {@link #nanoTime} of the last fence, if any: a renewal that began before it does not undo it. */
    private long fencedAt;

    private boolean everFenced;

    /** {@code name} says which outbox and holder, for the logs. */
    public Leadership(Duration leaseTtl, LongSupplier nanoTime, OutboxMetrics metrics, String name) {
        this.trustedForNanos = Lease.trustedFor(leaseTtl).toNanos();
        this.nanoTime = nanoTime;
        this.metrics = metrics;
        this.name = name;
    }

    public synchronized State state() {
        return state;
    }

    /** True while LEADING within the validity deadline; moves to LAPSED once the deadline passed. */
    public synchronized boolean leading() {
        if (state == State.LEADING && nanoTime.getAsLong() - validUntil >= 0) {
            move(State.LAPSED, "its last renewal is too old to trust");
        }
        return state == State.LEADING;
    }

    /**
     * The renewal that began at {@code startedNanos} won or kept the lease: trusted until that
     * start plus {@link Lease#trustedFor}. A renewal that took longer than that gains nothing.
     */
    public synchronized void renewed(long startedNanos) {
        long until = startedNanos + trustedForNanos;
        if (state == State.STOPPED
                || nanoTime.getAsLong() - until >= 0
                || (everFenced && startedNanos - fencedAt < 0)) {
            return; // stopped, too late to trust, or it began before Kafka fenced us: renew again first
        }
        validUntil = until;
        move(State.LEADING, "");
    }

    /** A renewal found the lease held by another dispatcher, or failed. */
    public synchronized void notRenewed(String why) {
        if (state == State.LEADING || state == State.LAPSED) {
            move(State.STANDBY, why);
        }
    }

    /** Kafka fenced this dispatcher's producer: a newer one publishes; stand by until a renewal wins. */
    public synchronized void fenced(String why) {
        fencedAt = nanoTime.getAsLong();
        everFenced = true;
        if (state == State.LEADING || state == State.LAPSED) {
            move(State.STANDBY, why);
        }
    }

    /** The relay is closing: publish nothing more, whatever the lease says. */
    public synchronized void stop() {
        if (state != State.STOPPED) {
            move(State.STOPPED, "stopping");
        }
    }

    private void move(State next, String why) {
        if (!state.next().contains(next)) {
            throw new IllegalStateException("outbox leadership cannot move from " + state + " to " + next);
        }
        State previous = state;
        state = next;
        metrics.leader(next == State.LEADING);
        if (next == State.LEADING && previous != State.LEADING) {
            log.info("leader of outbox {}: draining", name);
        } else if (previous == State.LEADING && next != State.LEADING && next != State.STOPPED) {
            log.warn("lost the outbox lease: standing by ({}; {})", why, name);
        }
    }
}
