package io.ragline.training;

import static io.ragline.testkit.ReadmeConfiguration.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import io.ragline.testkit.ReadmeConfiguration;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainingSettingsTest {
    @Test
    void defaultsNeedNoVariable() {
        Env env = new Env(Map.of());
        TrainingSettings s = TrainingSettings.from(env);

        assertThat(env.problems()).isEmpty();
        assertThat(s.stalePolicy()).isEqualTo(TrainingSettings.StalePolicy.RETRY);
        assertThat(s.scheduler()).isEqualTo(TrainingSettings.Scheduler.AUTO);
        assertThat(s.scheduleInterval()).isEqualTo(Duration.ofMinutes(1));
    }

    @Test
    void everyBadVariableIsNamedAtOnce() {
        Env env = new Env(Map.of(
                TrainingSettings.HEARTBEAT, "10ms",
                TrainingSettings.STALE_POLICY, "forget",
                TrainingSettings.MAX_ATTEMPTS, "0",
                TrainingSettings.PGML_SCHEMA, "pg-ml; drop",
                TrainingSettings.STATEMENT_TIMEOUT, "10ms",
                TrainingSettings.SCHEDULER, "cron",
                TrainingSettings.SCHEDULE_INTERVAL, "10ms"));
        TrainingSettings.from(env);

        assertThat(String.join("\n", env.problems()))
                .contains(TrainingSettings.HEARTBEAT)
                .contains(TrainingSettings.STALE_POLICY)
                .contains(TrainingSettings.MAX_ATTEMPTS)
                .contains(TrainingSettings.PGML_SCHEMA)
                .contains(TrainingSettings.STATEMENT_TIMEOUT)
                .contains(TrainingSettings.SCHEDULER)
                .contains(TrainingSettings.SCHEDULE_INTERVAL);
        assertThat(env.problems()).hasSizeGreaterThanOrEqualTo(7);
    }

    @Test
    void aStaleLimitBelowThreeHeartbeatsIsRefused() {
        Env env = new Env(Map.of(TrainingSettings.HEARTBEAT, "10s", TrainingSettings.STALE_AFTER, "20s"));
        TrainingSettings.from(env);

        assertThat(env.problems())
                .singleElement()
                .asString()
                .contains(TrainingSettings.STALE_AFTER)
                .contains("at least three");
    }

    @Test
    void theConstructorRefusesBadValuesNamingEachVariable() {
        assertThatThrownBy(() -> new TrainingSettings(
                        Duration.ofSeconds(10),
                        Duration.ofSeconds(20),
                        null,
                        101,
                        0,
                        Duration.ofDays(30),
                        "pg-ml",
                        true,
                        TrainingSettings.Scheduler.AUTO,
                        Duration.ofMillis(500)))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .containsExactly(
                                "RAGLINE_TRAINING_STALE_AFTER='20s' must be at least three"
                                        + " RAGLINE_TRAINING_HEARTBEAT='10s', or a slow heartbeat looks like a dead"
                                        + " worker",
                                "RAGLINE_TRAINING_STALE_POLICY is not set",
                                "RAGLINE_TRAINING_MAX_ATTEMPTS='101' must be between 1 and 100",
                                "RAGLINE_TRAINING_CONCURRENCY='0' must be between 1 and 64",
                                "RAGLINE_TRAINING_STATEMENT_TIMEOUT='720h' must be longer than 0 and at most 24 days",
                                "RAGLINE_PGML_SCHEMA='pg-ml' must be a lower-case SQL identifier",
                                "RAGLINE_TRAINING_SCHEDULE_INTERVAL='500ms' must be at least 1s"));
    }

    @Test
    void theDefaultsAreTheReadmes() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables()).containsAll(ReadmeConfiguration.variablesOf(TrainingSettings.class));
        assertThat(TrainingSettings.from(new Env(Map.of()))).isEqualTo(TrainingSettings.defaults());
        assertThat(readme.defaultOf(TrainingSettings.HEARTBEAT))
                .isEqualTo(code(Problems.text(TrainingSettings.DEFAULT_HEARTBEAT)));
        assertThat(readme.defaultOf(TrainingSettings.STALE_AFTER))
                .isEqualTo(code(Problems.text(TrainingSettings.DEFAULT_STALE_AFTER)));
        assertThat(readme.defaultOf(TrainingSettings.STALE_POLICY))
                .isEqualTo(code(TrainingSettings.DEFAULT_STALE_POLICY.name().toLowerCase(Locale.ROOT)));
        assertThat(readme.defaultOf(TrainingSettings.MAX_ATTEMPTS))
                .isEqualTo(code(TrainingSettings.DEFAULT_MAX_ATTEMPTS));
        assertThat(readme.defaultOf(TrainingSettings.CONCURRENCY))
                .isEqualTo(code(TrainingSettings.DEFAULT_CONCURRENCY));
        assertThat(readme.defaultOf(TrainingSettings.STATEMENT_TIMEOUT))
                .isEqualTo(code(Problems.text(TrainingSettings.DEFAULT_STATEMENT_TIMEOUT)));
        assertThat(readme.defaultOf(TrainingSettings.PGML_SCHEMA))
                .isEqualTo(code(TrainingSettings.DEFAULT_PGML_SCHEMA));
        assertThat(readme.defaultOf(TrainingSettings.PREDICT)).isEqualTo(code(TrainingSettings.DEFAULT_PREDICT));
        assertThat(readme.defaultOf(TrainingSettings.SCHEDULER))
                .isEqualTo(code(TrainingSettings.DEFAULT_SCHEDULER.name().toLowerCase(Locale.ROOT)));
        assertThat(readme.defaultOf(TrainingSettings.SCHEDULE_INTERVAL))
                .isEqualTo(code(Problems.text(TrainingSettings.DEFAULT_SCHEDULE_INTERVAL)));
    }
}
