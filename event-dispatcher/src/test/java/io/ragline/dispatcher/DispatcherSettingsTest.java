package io.ragline.dispatcher;

import static io.ragline.testkit.ReadmeConfiguration.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import io.ragline.dispatcher.outbox.Lease;
import io.ragline.testkit.ReadmeConfiguration;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
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

    @Test
    void theConstructorRefusesBadValuesNamingEachVariable() {
        assertThatThrownBy(() -> new DispatcherSettings(
                        DispatcherSettings.Mode.POLL,
                        0,
                        DispatcherSettings.DEFAULT_LOOKAHEAD,
                        DispatcherSettings.DEFAULT_POLL_INTERVAL_POLL_MODE,
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(4),
                        DispatcherSettings.DEFAULT_MAX_ATTEMPTS,
                        5,
                        Duration.ofSeconds(2),
                        Map.of("Bad Channel", "events")))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .containsExactly(
                                "RAGLINE_OUTBOX_BATCH='0' must be between 1 and 50000",
                                "RAGLINE_DISPATCHER_LEASE_TTL='1s' must be at least 2s (the leader acts on its lease"
                                        + " for the TTL less a second, renewing it four times in that time)",
                                "RAGLINE_OUTBOX_PUBLISH_TIMEOUT='4s' must be at least 5s",
                                "RAGLINE_OUTBOX_PRODUCERS='5' must be between 1 and 4",
                                "RAGLINE_OUTBOX_LINGER='2s' must be between 0s and 1s (it adds up to that much to a"
                                        + " row's latency)",
                                "RAGLINE_NOTIFY_BRIDGE='Bad Channel=events' must be channel=topic[,channel=topic]"
                                        + " (channel: a lower-case identifier; topic: letters, digits, '.', '_', '-')",
                                "RAGLINE_NOTIFY_BRIDGE needs RAGLINE_OUTBOX_MODE=listen: a poll-only dispatcher"
                                        + " cannot LISTEN"));
    }

    @Test
    void theLingerIsBetweenZeroAndASecond() {
        for (String ok : List.of("0", "5ms", "1s")) {
            Env env = new Env(Map.of(DispatcherSettings.LINGER, ok));
            DispatcherSettings settings = DispatcherSettings.from(env);
            assertThat(env.problems()).as(ok).isEmpty();
            assertThat(settings.linger()).isEqualTo(Env.parseDuration(ok));
        }
        for (String bad : List.of("1001ms", "2s", "PT-0.001S")) {
            Env env = new Env(Map.of(DispatcherSettings.LINGER, bad));
            DispatcherSettings.from(env);
            assertThat(env.problems()).as(bad).singleElement().asString().startsWith("RAGLINE_OUTBOX_LINGER=");
        }
    }

    @Test
    void fromNamesEveryBadVariableAtOnceAndGivesTheDefaults() {
        Env env = new Env(Map.of(
                DispatcherSettings.MODE, "push",
                DispatcherSettings.LOOKAHEAD, "0",
                DispatcherSettings.POLL_INTERVAL, "0s",
                DispatcherSettings.MAX_ATTEMPTS, "1001",
                DispatcherSettings.NOTIFY_BRIDGE, "orders"));

        DispatcherSettings settings = DispatcherSettings.from(env);

        assertThat(env.problems())
                .hasSize(5)
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_OUTBOX_MODE='push' must be one of listen, poll"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_OUTBOX_LOOKAHEAD='0' must be between"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_OUTBOX_POLL_INTERVAL='0s' must be longer than 0"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_OUTBOX_MAX_ATTEMPTS='1001' must be between"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_NOTIFY_BRIDGE='orders' must be channel=topic"));
        assertThat(settings).isEqualTo(DispatcherSettings.defaults());
    }

    @Test
    void theDefaultsAreTheReadmes() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables()).containsAll(ReadmeConfiguration.variablesOf(DispatcherSettings.class));
        assertThat(readme.defaultOf(DispatcherSettings.MODE))
                .isEqualTo(code(DispatcherSettings.DEFAULT_MODE.name().toLowerCase(Locale.ROOT)));
        assertThat(readme.defaultOf(DispatcherSettings.POLL_INTERVAL))
                .isEqualTo(code(Problems.text(DispatcherSettings.DEFAULT_POLL_INTERVAL)) + " ("
                        + code(Problems.text(DispatcherSettings.DEFAULT_POLL_INTERVAL_POLL_MODE)) + " in poll mode)");
        assertThat(readme.defaultOf(DispatcherSettings.BATCH)).isEqualTo(code(DispatcherSettings.DEFAULT_BATCH));
        assertThat(readme.defaultOf(DispatcherSettings.LOOKAHEAD))
                .isEqualTo(code(DispatcherSettings.DEFAULT_LOOKAHEAD));
        assertThat(readme.defaultOf(DispatcherSettings.PUBLISH_TIMEOUT))
                .isEqualTo(code(Problems.text(DispatcherSettings.DEFAULT_PUBLISH_TIMEOUT)));
        assertThat(readme.defaultOf(DispatcherSettings.MAX_ATTEMPTS))
                .isEqualTo(code(DispatcherSettings.DEFAULT_MAX_ATTEMPTS));
        assertThat(readme.defaultOf(DispatcherSettings.LEASE_TTL))
                .isEqualTo(code(Problems.text(DispatcherSettings.DEFAULT_LEASE_TTL)));
        assertThat(readme.defaultOf(DispatcherSettings.LINGER))
                .isEqualTo(code(Problems.text(DispatcherSettings.DEFAULT_LINGER)));
        assertThat(readme.defaultOf(DispatcherSettings.PRODUCERS))
                .isEqualTo(code(DispatcherSettings.DEFAULT_PRODUCERS));
        assertThat(readme.defaultOf(DispatcherSettings.NOTIFY_BRIDGE)).isEqualTo("empty");
    }
}
