package io.ragline.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.Env;
import java.time.Duration;
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
}
