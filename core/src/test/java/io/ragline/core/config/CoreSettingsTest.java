package io.ragline.core.config;

import static io.ragline.testkit.ReadmeConfiguration.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.kafka.KafkaSettings;
import io.ragline.testkit.ReadmeConfiguration;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CoreSettingsTest {

    @Test
    void missingRequiredVariablesAreBothNamed() {
        Env env = new Env(Map.of());

        CoreSettings.from(env, 9081);

        assertThat(env.problems())
                .hasSize(2)
                .anySatisfy(p -> assertThat(p).startsWith("DATABASE_URL is not set"))
                .anySatisfy(p -> assertThat(p).startsWith("KAFKA_BOOTSTRAP_SERVERS is not set"));
    }

    @Test
    void badValuesAreAllReportedWithoutThePassword() {
        Env env = new Env(Map.of(
                "DATABASE_URL", "postgresql://app:hunter2@db:notaport/rag",
                "KAFKA_BOOTSTRAP_SERVERS", "kafka-without-port",
                "RAGLINE_DB_SCHEMA", "Robert'); drop table",
                "RAGLINE_ADMIN_PORT", "70000",
                "RAGLINE_LOG_FORMAT", "xml"));

        CoreSettings.from(env, 9081);

        assertThat(env.problems()).hasSize(5);
        assertThat(String.join("\n", env.problems()))
                .contains("DATABASE_URL='postgresql://app:<masked>@db:notaport/rag'")
                .contains("KAFKA_BOOTSTRAP_SERVERS")
                .contains("RAGLINE_DB_SCHEMA")
                .contains("RAGLINE_ADMIN_PORT='70000'")
                .contains("RAGLINE_LOG_FORMAT='xml' must be one of text, json")
                .doesNotContain("hunter2");
    }

    @Test
    void goodValuesGiveSettingsWhoseTextHidesThePassword() {
        Env env = new Env(Map.of(
                "DATABASE_URL", "postgresql://app:hunter2@db:5432/rag",
                "KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092",
                "RAGLINE_TOPIC_PREFIX", "staging.",
                "RAGLINE_STARTUP_WAIT", "0"));

        CoreSettings settings = CoreSettings.from(env, 9081);

        assertThat(env.problems()).isEmpty();
        assertThat(settings.adminPort()).isEqualTo(9081);
        assertThat(settings.schema()).isEqualTo("rag");
        assertThat(settings.startupWait()).as("a bare 0 tries once").isZero();
        assertThat(settings.topic("documents")).isEqualTo("staging.documents");
        assertThat(settings.toString()).doesNotContain("hunter2").contains("<masked>");
    }

    @Test
    void theConstructorRefusesBadValuesNamingEachVariableAndNoPassword() {
        DatabaseUrl url =
                DatabaseUrl.parse("postgresql://app:hunter2@db:5432/rag").url().orElseThrow();

        assertThatThrownBy(() -> new CoreSettings(
                        url,
                        "kafka-without-port",
                        "Rag-Schema",
                        0,
                        "",
                        9081,
                        true,
                        Duration.ZERO,
                        Duration.ofSeconds(-1),
                        CoreSettings.DEFAULT_SHUTDOWN_TIMEOUT,
                        CoreSettings.LogFormat.TEXT,
                        KafkaSettings.defaults()))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .containsExactly(
                                "KAFKA_BOOTSTRAP_SERVERS='kafka-without-port' must be a comma-separated list of"
                                        + " host:port",
                                "RAGLINE_DB_SCHEMA='Rag-Schema' must be a lower-case SQL identifier (letters,"
                                        + " digits, _) of at most 56 characters",
                                "RAGLINE_DB_POOL_SIZE='0' must be between 1 and 500",
                                "RAGLINE_STARTUP_TIMEOUT='0s' must be longer than 0 and at most 24 days",
                                "RAGLINE_STARTUP_WAIT='PT-1S' must be 0 or longer and at most 24 days"))
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void theConstructorRefusesAMissingDatabaseNamingItsVariable() {
        assertThatThrownBy(() -> new CoreSettings(
                        null,
                        "k1:9092",
                        CoreSettings.DEFAULT_SCHEMA,
                        CoreSettings.DEFAULT_POOL_SIZE,
                        CoreSettings.DEFAULT_TOPIC_PREFIX,
                        9081,
                        CoreSettings.DEFAULT_MIGRATE_ON_START,
                        CoreSettings.DEFAULT_STARTUP_TIMEOUT,
                        CoreSettings.DEFAULT_STARTUP_WAIT,
                        CoreSettings.DEFAULT_SHUTDOWN_TIMEOUT,
                        CoreSettings.DEFAULT_LOG_FORMAT,
                        KafkaSettings.defaults()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("DATABASE_URL is not set");
    }

    @Test
    void fromReportsEveryBadVariableOnceAndReturnsNoSettings() {
        Env env = new Env(Map.of(
                "DATABASE_URL", "postgresql://app:hunter2@db:5432/rag",
                "KAFKA_BOOTSTRAP_SERVERS", "k1:9092",
                "RAGLINE_DB_POOL_SIZE", "0",
                "RAGLINE_TOPIC_PREFIX", "a b",
                "RAGLINE_SHUTDOWN_TIMEOUT", "0s",
                "RAGLINE_STARTUP_TIMEOUT", "soon",
                "RAGLINE_LOG_LEVEL", "loud",
                "RAGLINE_MAX_POLL_RECORDS", "0"));

        CoreSettings settings = CoreSettings.from(env, 9081);

        assertThat(settings).isNull();
        assertThat(env.problems())
                .hasSize(6)
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_DB_POOL_SIZE='0' must be between 1 and 500"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_TOPIC_PREFIX='a b' may hold only"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_SHUTDOWN_TIMEOUT='0s' must be longer than 0"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_STARTUP_TIMEOUT='soon'"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_LOG_LEVEL='LOUD' must be one of"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_MAX_POLL_RECORDS='0' must be between 1 and"));
    }

    @Test
    void theDefaultsAreTheReadmes() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables()).containsAll(ReadmeConfiguration.variablesOf(CoreSettings.class));
        assertThat(readme.defaultOf(CoreSettings.DATABASE_URL)).isEqualTo("— (required)");
        assertThat(readme.defaultOf(CoreSettings.DATABASE_PASSWORD)).isEqualTo("none");
        assertThat(readme.variables()).contains("DATABASE_URL_FILE", "DATABASE_PASSWORD_FILE", "PGPASSFILE");
        assertThat(readme.defaultOf(CoreSettings.KAFKA_BOOTSTRAP_SERVERS)).isEqualTo("— (required)");
        assertThat(readme.defaultOf(CoreSettings.SCHEMA)).isEqualTo(code(CoreSettings.DEFAULT_SCHEMA));
        assertThat(readme.defaultOf(CoreSettings.POOL_SIZE)).isEqualTo(code(CoreSettings.DEFAULT_POOL_SIZE));
        assertThat(CoreSettings.DEFAULT_TOPIC_PREFIX).isEmpty();
        assertThat(readme.defaultOf(CoreSettings.TOPIC_PREFIX)).isEqualTo("empty");
        assertThat(readme.defaultOf(CoreSettings.ADMIN_PORT)).startsWith("per process");
        assertThat(readme.defaultOf(CoreSettings.MIGRATE_ON_START))
                .isEqualTo(code(CoreSettings.DEFAULT_MIGRATE_ON_START));
        assertThat(readme.defaultOf(CoreSettings.STARTUP_TIMEOUT))
                .isEqualTo(code(Problems.text(CoreSettings.DEFAULT_STARTUP_TIMEOUT)));
        assertThat(readme.defaultOf(CoreSettings.STARTUP_WAIT))
                .isEqualTo(code(Problems.text(CoreSettings.DEFAULT_STARTUP_WAIT)));
        assertThat(readme.defaultOf(CoreSettings.SHUTDOWN_TIMEOUT))
                .isEqualTo(code(Problems.text(CoreSettings.DEFAULT_SHUTDOWN_TIMEOUT)));
        assertThat(readme.defaultOf(CoreSettings.LOG_FORMAT))
                .isEqualTo(code(CoreSettings.DEFAULT_LOG_FORMAT.name().toLowerCase(Locale.ROOT)));
        assertThat(readme.defaultOf(CoreSettings.LOG_LEVEL)).isEqualTo(code(CoreSettings.DEFAULT_LOG_LEVEL));
    }
}
