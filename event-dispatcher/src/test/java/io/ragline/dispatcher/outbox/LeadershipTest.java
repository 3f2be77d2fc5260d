package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.dispatcher.outbox.Leadership.State;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Leadership against a clock moved by hand: the lease is trusted only until its deadline. */
class LeadershipTest {
    static final Duration TTL = Duration.ofSeconds(5);
    static final long TRUSTED = Lease.trustedFor(TTL).toNanos();

    final AtomicLong now = new AtomicLong(1_000_000_000L);
    final OutboxMetrics metrics = new OutboxMetrics(new SimpleMeterRegistry());
    final Leadership leadership = new Leadership(TTL, now::get, metrics, "test.outbox (me)");

    @Test
    void aWonRenewalLeadsUntilItsStartPlusTheTrustedTimeAndNotANanosecondLonger() {
        long started = now.get();
        now.addAndGet(Duration.ofMillis(300).toNanos()); // the renewal took 300 ms

        leadership.renewed(started);
        assertThat(leadership.leading()).isTrue();
        assertThat(metrics.isLeader()).isTrue();

        now.set(started + TRUSTED - 1);
        assertThat(leadership.leading()).isTrue();
        now.set(started + TRUSTED);
        assertThat(leadership.leading()).isFalse();
        assertThat(leadership.state()).isEqualTo(State.LAPSED);
        assertThat(metrics.isLeader()).isFalse();
    }

    @Test
    void aRenewalThatBeganBeforeAFenceDoesNotUndoIt() {
        leadership.renewed(now.get());
        long before = now.get();
        now.addAndGet(Duration.ofMillis(100).toNanos());
        leadership.fenced("a newer dispatcher initialised our transactional id");
        now.addAndGet(Duration.ofMillis(100).toNanos());

        leadership.renewed(before); // that renewal's database write began before the fence
        assertThat(leadership.leading()).isFalse();

        leadership.renewed(now.get()); // one that began after it
        assertThat(leadership.leading()).isTrue();
    }

    @Test
    void aLapsedLeaseLeadsAgainAfterTheNextRenewal() {
        leadership.renewed(now.get());
        now.addAndGet(TRUSTED);
        assertThat(leadership.leading()).isFalse();

        leadership.renewed(now.get());

        assertThat(leadership.leading()).isTrue();
    }

    @Test
    void aRenewalSlowerThanTheTrustedTimeGainsNothing() {
        long started = now.get();
        now.addAndGet(TRUSTED + 1);

        leadership.renewed(started);

        assertThat(leadership.state()).isEqualTo(State.STANDBY);
        assertThat(leadership.leading()).isFalse();
    }

    @Test
    void aRenewalThatFailsOrFindsAnotherHolderStandsBy() {
        leadership.renewed(now.get());

        leadership.notRenewed("another dispatcher holds it");

        assertThat(leadership.state()).isEqualTo(State.STANDBY);
        assertThat(leadership.leading()).isFalse();
        assertThat(metrics.isLeader()).isFalse();
    }

    @Test
    void aFencedProducerStandsByUntilTheNextRenewal() {
        leadership.renewed(now.get());

        leadership.fenced("fenced by a newer dispatcher");
        assertThat(leadership.leading()).isFalse();

        leadership.renewed(now.get());
        assertThat(leadership.leading()).isTrue();
    }

    @Test
    void aStoppedRelayNeverLeadsAgainWhateverTheHeartbeatSays() {
        leadership.renewed(now.get());

        leadership.stop();
        leadership.renewed(now.get());

        assertThat(leadership.state()).isEqualTo(State.STOPPED);
        assertThat(leadership.leading()).isFalse();
        assertThat(metrics.isLeader()).isFalse();
    }

    @Test
    void theTransitionsAreWrittenOnce() {
        assertThat(State.STANDBY.next()).containsExactlyInAnyOrder(State.LEADING, State.STOPPED);
        assertThat(State.LAPSED.next()).doesNotContain(State.LAPSED);
        assertThat(State.STOPPED.next()).isEmpty();
    }
}
