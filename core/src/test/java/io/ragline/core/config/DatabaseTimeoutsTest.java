package io.ragline.core.config;

import static io.ragline.testkit.ReadmeConfiguration.code;
import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.ReadmeConfiguration;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DatabaseTimeoutsTest {
    private static final String URL = "postgresql://app:hunter2@db:5432/rag";

    @Test
    void withoutVariablesThePipelineHasASocketTimeoutAndLongStatementsHaveNone() {
        Env env = new Env(Map.of("DATABASE_URL", URL));

        DatabaseUrl url = DatabaseUrl.from(env);

        assertThat(env.problems()).isEmpty();
        assertThat(url.timeouts()).isEqualTo(DatabaseTimeouts.DEFAULT);
        assertThat(url.timeouts().socket()).contains(Duration.ofSeconds(60));
        assertThat(url.timeouts().longSocket()).isEmpty();
    }

    @Test
    void theVariablesReachTheUrlEveryPoolIsOpenedFrom() {
        Env env = new Env(Map.of(
                "DATABASE_URL", URL,
                "RAGLINE_DB_CONNECT_TIMEOUT", "3s",
                "RAGLINE_DB_SOCKET_TIMEOUT", "15s",
                "RAGLINE_DB_LONG_SOCKET_TIMEOUT", "6h",
                "RAGLINE_DB_KEEPALIVE_TIME", "45s",
                "RAGLINE_DB_MAX_LIFETIME", "10m"));

        DatabaseTimeouts t = DatabaseUrl.from(env).timeouts();

        assertThat(env.problems()).isEmpty();
        assertThat(t)
                .isEqualTo(new DatabaseTimeouts(
                        Duration.ofSeconds(3),
                        Optional.of(Duration.ofSeconds(15)),
                        Optional.of(Duration.ofHours(6)),
                        Duration.ofSeconds(45),
                        Duration.ofMinutes(10)));
        assertThat(t.toString()).contains("socket 15s").contains("long statements' socket 6h");
    }

    @Test
    void offTurnsTheSocketTimeoutOff() {
        Env env = new Env(Map.of("DATABASE_URL", URL, "RAGLINE_DB_SOCKET_TIMEOUT", "off"));

        assertThat(DatabaseUrl.from(env).timeouts().socket()).isEmpty();
        assertThat(env.problems()).isEmpty();
    }

    @Test
    void everyBadValueIsReportedAtOnceNamingItsVariableAndNoPassword() {
        Env env = new Env(Map.of(
                "DATABASE_URL", URL,
                "RAGLINE_DB_CONNECT_TIMEOUT", "100ms",
                "RAGLINE_DB_SOCKET_TIMEOUT", "soon",
                "RAGLINE_DB_KEEPALIVE_TIME", "5s",
                "RAGLINE_DB_MAX_LIFETIME", "-1m",
                "KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"));

        CoreSettings settings = CoreSettings.from(env, 9081);

        assertThat(settings).isNull();
        assertThat(env.problems())
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_DB_CONNECT_TIMEOUT='100ms' must be between 250ms"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_DB_SOCKET_TIMEOUT='soon'"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_DB_KEEPALIVE_TIME='5s' must be between 30s"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_DB_MAX_LIFETIME='-1m'"));
        assertThat(String.join("\n", env.problems())).doesNotContain("hunter2");
    }

    @Test
    void aLongStatementsTimeoutShorterThanThePipelinesIsRefused() {
        Env env = new Env(Map.of(
                "DATABASE_URL", URL,
                "RAGLINE_DB_SOCKET_TIMEOUT", "2m",
                "RAGLINE_DB_LONG_SOCKET_TIMEOUT", "30s",
                "RAGLINE_DB_MAX_LIFETIME", "20s"));

        DatabaseUrl.from(env);

        assertThat(env.problems())
                .containsExactlyInAnyOrder(
                        "RAGLINE_DB_LONG_SOCKET_TIMEOUT='30s' must not be shorter than RAGLINE_DB_SOCKET_TIMEOUT='2m'"
                                + " (long statements would be cut before the pipeline's)",
                        "RAGLINE_DB_LONG_SOCKET_TIMEOUT='30s' must be longer than 5m (a migration waits up to 5m"
                                + " for another's lock; off for none)",
                        "RAGLINE_DB_MAX_LIFETIME='20s' must be between 30s and 1d (HikariCP ignores a shorter one)",
                        "RAGLINE_DB_MAX_LIFETIME='20s' must be longer than RAGLINE_DB_KEEPALIVE_TIME='30s'");
    }

    @Test
    void aLongStatementsTimeoutThatWouldCutTheMigrationLockWaitIsRefused() {
        Env env = new Env(Map.of("DATABASE_URL", URL, "RAGLINE_DB_LONG_SOCKET_TIMEOUT", "5m"));

        DatabaseUrl.from(env);

        assertThat(env.problems())
                .containsExactly("RAGLINE_DB_LONG_SOCKET_TIMEOUT='5m' must be longer than 5m (a migration waits up to"
                        + " 5m for another's lock; off for none)");

        Env longer = new Env(Map.of("DATABASE_URL", URL, "RAGLINE_DB_LONG_SOCKET_TIMEOUT", "6m"));
        DatabaseUrl accepted = DatabaseUrl.from(longer);
        assertThat(longer.problems()).isEmpty();
        assertThat(accepted.timeouts().longSocket()).contains(Duration.ofMinutes(6));
    }

    @Test
    void aReceiversBudgetBoundsBothOpeningAndSilence() {
        DatabaseTimeouts t = DatabaseTimeouts.DEFAULT.within(Duration.ofSeconds(5));

        assertThat(t.connect()).isEqualTo(Duration.ofSeconds(5));
        assertThat(t.socket()).contains(Duration.ofSeconds(5));
        assertThat(DatabaseTimeouts.DEFAULT.within(Duration.ofMillis(100)).connect())
                .isEqualTo(DatabaseTimeouts.MIN_CONNECT_TIMEOUT);
    }

    @Test
    void theReadmeDocumentsEveryVariableWithItsDefault() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables()).containsAll(ReadmeConfiguration.variablesOf(DatabaseTimeouts.class));
        assertThat(readme.defaultOf(DatabaseTimeouts.CONNECT_TIMEOUT))
                .isEqualTo(code(Problems.text(DatabaseTimeouts.DEFAULT_CONNECT_TIMEOUT)));
        assertThat(readme.defaultOf(DatabaseTimeouts.SOCKET_TIMEOUT))
                .isEqualTo(code(Problems.text(DatabaseTimeouts.DEFAULT_SOCKET_TIMEOUT)));
        assertThat(readme.defaultOf(DatabaseTimeouts.LONG_SOCKET_TIMEOUT)).isEqualTo(code("off"));
        assertThat(readme.defaultOf(DatabaseTimeouts.KEEPALIVE_TIME))
                .isEqualTo(code(Problems.text(DatabaseTimeouts.DEFAULT_KEEPALIVE_TIME)));
        assertThat(readme.defaultOf(DatabaseTimeouts.MAX_LIFETIME))
                .isEqualTo(code(Problems.text(DatabaseTimeouts.DEFAULT_MAX_LIFETIME)));
    }
}
