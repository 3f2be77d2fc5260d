package io.ragline.core.kafka;

import static io.ragline.testkit.ReadmeConfiguration.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import io.ragline.testkit.ReadmeConfiguration;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaSettingsTest {

    @Test
    void anInitialBackoffAboveTheMaximumIsRefusedByTheConstructorNamingBothVariables() {
        assertThatThrownBy(() -> new KafkaSettings(
                        KafkaSettings.DEFAULT_GROUP_PREFIX,
                        KafkaSettings.DEFAULT_CONSUMER_THREADS,
                        KafkaSettings.DEFAULT_MAX_POLL_RECORDS,
                        KafkaSettings.DEFAULT_MAX_POLL_INTERVAL,
                        Duration.ofMinutes(1),
                        Duration.ofSeconds(30),
                        KafkaSettings.DEFAULT_MAX_ATTEMPTS,
                        KafkaSettings.DEFAULT_BREAKER_OPEN_FOR,
                        KafkaSettings.DEFAULT_COMPRESSION,
                        KafkaSettings.DEFAULT_LINGER,
                        KafkaClientProperties.none(),
                        java.util.Optional.empty(),
                        KafkaSettings.REPLICATION_FROM_BROKER))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(
                        "RAGLINE_RETRY_BACKOFF_INITIAL='1m' must not be above RAGLINE_RETRY_BACKOFF_MAX='30s'");
    }

    @Test
    void everyBadValueGivenToTheConstructorIsNamedAtOnce() {
        assertThatThrownBy(() -> new KafkaSettings(
                        "my group",
                        0,
                        10_001,
                        Duration.ZERO,
                        null,
                        Duration.ofSeconds(1),
                        0,
                        null,
                        "brotli",
                        null,
                        KafkaClientProperties.none(),
                        java.util.Optional.of("pod 1"),
                        -1))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .containsExactly(
                                "RAGLINE_GROUP_PREFIX='my group' may hold only letters, digits, '.', '_' and '-'",
                                "RAGLINE_CONSUMER_THREADS='0' must be between 1 and 64",
                                "RAGLINE_MAX_POLL_RECORDS='10001' must be between 1 and 10000",
                                "RAGLINE_MAX_POLL_INTERVAL='0s' must be longer than 0 and at most 24 days",
                                "RAGLINE_RETRY_BACKOFF_INITIAL is not set",
                                "RAGLINE_MAX_ATTEMPTS='0' must be between 1 and 1000",
                                "RAGLINE_CIRCUIT_BREAKER_OPEN is not set",
                                "RAGLINE_PRODUCER_COMPRESSION='brotli' must be one of none, gzip, snappy, lz4, zstd",
                                "RAGLINE_PRODUCER_LINGER is not set",
                                "RAGLINE_KAFKA_GROUP_INSTANCE_ID='pod 1' may hold only letters, digits, '.', '_'"
                                        + " and '-' (at most 200), or be off",
                                "RAGLINE_TOPIC_REPLICATION_FACTOR='-1' must be between 1 and 32767 (unset: the"
                                        + " broker's default.replication.factor)"));
    }

    @Test
    void eachConsumerIsAStaticMemberNamedAfterThePodWithItsOwnSuffix() {
        KafkaSettings settings = KafkaSettings.from(new Env(
                Map.of(KafkaSettings.HOSTNAME, "embedding-worker-7f9c", KafkaSettings.KUBERNETES, "10.96.0.1")));

        assertThat(settings.groupInstanceIdOf("embedding-worker-embedding-requests-0"))
                .contains("embedding-worker-7f9c-embedding-worker-embedding-requests-0");
        assertThat(settings.groupInstanceIdOf("embedding-worker-embedding-requests-1"))
                .contains("embedding-worker-7f9c-embedding-worker-embedding-requests-1");
    }

    @Test
    void theInstanceIdGivenWinsOverTheHostNameAndOffMeansDynamicMembership() {
        assertThat(KafkaSettings.from(new Env(
                                Map.of(KafkaSettings.HOSTNAME, "host", KafkaSettings.GROUP_INSTANCE_ID, "replica-2")))
                        .groupInstanceIdOf("c"))
                .contains("replica-2-c");
        assertThat(KafkaSettings.from(
                                new Env(Map.of(KafkaSettings.HOSTNAME, "host", KafkaSettings.GROUP_INSTANCE_ID, "off")))
                        .groupInstanceIdOf("c"))
                .isEmpty();
        assertThat(KafkaSettings.from(new Env(Map.of())).groupInstanceIdOf("c")).isEmpty();
        assertThat(KafkaSettings.from(new Env(Map.of(KafkaSettings.HOSTNAME, "host")))
                        .groupInstanceIdOf("c"))
                .as("outside Kubernetes HOSTNAME is not known to be unique: dynamic membership")
                .isEmpty();
    }

    @Test
    void theInstanceIdIsNoKafkaPropertyButAFileCannotSetOneForEveryConsumer() {
        Env env = new Env(Map.of(KafkaSettings.GROUP_INSTANCE_ID, "replica-2"));
        KafkaSettings settings = KafkaSettings.from(env);

        assertThat(env.problems()).isEmpty();
        assertThat(settings.clientProperties().toString()).doesNotContain("group.instance.id");
    }

    @Test
    void fromNamesEveryBadVariableAtOnceAndGivesTheDefaults() {
        Env env = new Env(Map.of(
                KafkaSettings.CONSUMER_THREADS, "65",
                KafkaSettings.BACKOFF_INITIAL, "1m",
                KafkaSettings.MAX_ATTEMPTS, "often",
                KafkaSettings.COMPRESSION, "brotli",
                KafkaSettings.LINGER, "-5ms"));

        KafkaSettings settings = KafkaSettings.from(env);

        assertThat(env.problems())
                .hasSize(5)
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_CONSUMER_THREADS='65' must be between 1 and 64"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_RETRY_BACKOFF_INITIAL='1m' must not be above"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_MAX_ATTEMPTS='often'"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_PRODUCER_COMPRESSION='brotli'"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_PRODUCER_LINGER='-5ms' must not be negative"));
        assertThat(settings).isEqualTo(KafkaSettings.defaults());
    }

    @Test
    void aBackoffMaximumThatCannotBeReadIsReportedAloneNotAsAlsoBelowTheInitial() {
        Env env = new Env(Map.of(KafkaSettings.BACKOFF_INITIAL, "2m", KafkaSettings.BACKOFF_MAX, "later"));

        KafkaSettings.from(env);

        assertThat(env.problems()).singleElement().asString().startsWith("RAGLINE_RETRY_BACKOFF_MAX='later'");
    }

    @Test
    void theDefaultsAreTheReadmes() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables()).containsAll(ReadmeConfiguration.variablesOf(KafkaSettings.class));
        assertThat(readme.defaultOf(KafkaSettings.GROUP_PREFIX)).isEqualTo(code(KafkaSettings.DEFAULT_GROUP_PREFIX));
        assertThat(readme.defaultOf(KafkaSettings.CONSUMER_THREADS))
                .isEqualTo(code(KafkaSettings.DEFAULT_CONSUMER_THREADS));
        assertThat(readme.defaultOf(KafkaSettings.MAX_POLL_RECORDS))
                .isEqualTo(code(KafkaSettings.DEFAULT_MAX_POLL_RECORDS));
        assertThat(readme.defaultOf(KafkaSettings.MAX_POLL_INTERVAL))
                .isEqualTo(code(Problems.text(KafkaSettings.DEFAULT_MAX_POLL_INTERVAL)));
        assertThat(readme.defaultOf(KafkaSettings.BACKOFF_INITIAL))
                .isEqualTo(code(Problems.text(KafkaSettings.DEFAULT_BACKOFF_INITIAL)));
        assertThat(readme.defaultOf(KafkaSettings.BACKOFF_MAX))
                .isEqualTo(code(Problems.text(KafkaSettings.DEFAULT_BACKOFF_MAX)));
        assertThat(readme.defaultOf(KafkaSettings.MAX_ATTEMPTS)).isEqualTo(code(KafkaSettings.DEFAULT_MAX_ATTEMPTS));
        assertThat(readme.defaultOf(KafkaSettings.BREAKER_OPEN_FOR))
                .isEqualTo(code(Problems.text(KafkaSettings.DEFAULT_BREAKER_OPEN_FOR)));
        assertThat(readme.defaultOf(KafkaSettings.COMPRESSION)).isEqualTo(code(KafkaSettings.DEFAULT_COMPRESSION));
        assertThat(readme.defaultOf(KafkaSettings.LINGER)).isEqualTo(code(Problems.text(KafkaSettings.DEFAULT_LINGER)));
    }

    @Test
    void aConfigurationKafkaRefusesOnlyAsAWholeIsAStartUpProblemNamingItsVariables() {
        Env env = new Env(Map.of(
                "RAGLINE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "RAGLINE_KAFKA_SASL_MECHANISM", ""));

        KafkaSettings.from(env);

        assertThat(env.problems())
                .singleElement()
                .asString()
                .startsWith("the Kafka client properties (RAGLINE_KAFKA_SASL_MECHANISM,"
                        + " RAGLINE_KAFKA_SECURITY_PROTOCOL) are refused by Kafka:")
                .contains("mechanism must be non-null and non-empty");
    }

    @Test
    void theDefaultConfigurationOfEveryClientKindIsTakenByKafka() {
        assertThat(KafkaClients.configurationProblem(KafkaSettings.defaults())).isEmpty();
    }
}
