package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.Env;
import io.ragline.dispatcher.outbox.Lease;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DispatcherSettingsTest {

    @Test
    void aLeaseShorterThanTwoSecondsIsRefusedNamingTheVariable() {
        Env env = new Env(Map.of(DispatcherSettings.LEASE_TTL, "1500ms"));

        DispatcherSettings.from(env);

        assertThat(env.problems())
                .singleElement()
                .asString()
                .startsWith("RAGLINE_DISPATCHER_LEASE_TTL='1500ms' must be at least 2s");
    }

    @Test
    void theShortestLeaseIsAccepted() {
        Env env = new Env(Map.of(DispatcherSettings.LEASE_TTL, "2s"));

        DispatcherSettings settings = DispatcherSettings.from(env);

        assertThat(env.problems()).isEmpty();
        assertThat(settings.leaseTtl()).isEqualTo(Duration.ofSeconds(2));
    }

    /**
     * The leader acts on a renewal for the TTL less a second after the renewal began, and renews
     * at a fixed rate: three renewals in a row may fail or run late before it stops trusting its
     * lease, at every TTL the settings accept.
     */
    @Test
    void atEveryAcceptedTtlTheLeaderRenewsFourTimesWithinTheTimeItTrustsARenewal() {
        for (Duration ttl : List.of(
                DispatcherSettings.MIN_LEASE_TTL,
                Duration.ofMillis(2500),
                Duration.ofSeconds(3),
                Duration.ofSeconds(5),
                Duration.ofMinutes(1))) {
            Duration every = Lease.renewEvery(ttl);
            Duration trusted = Lease.trustedFor(ttl);

            assertThat(trusted).as("trusted at TTL %s", ttl).isEqualTo(ttl.minusSeconds(1));
            assertThat(every.multipliedBy(4))
                    .as("renewal period at TTL %s", ttl)
                    .isLessThanOrEqualTo(trusted);
            assertThat(every)
                    .as("renewal period at TTL %s", ttl)
                    .isPositive()
                    .isLessThanOrEqualTo(Duration.ofSeconds(1));
        }
        assertThat(Lease.renewEvery(Duration.ofSeconds(2))).isEqualTo(Duration.ofMillis(250));
        assertThat(Lease.renewEvery(Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(1));
    }
}
