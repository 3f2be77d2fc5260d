package io.ragline.core.retention;

import static io.ragline.testkit.ReadmeConfiguration.code;
import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import io.ragline.testkit.ReadmeConfiguration;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetentionSettingsTest {

    @Test
    void everyTargetHasItsDocumentedDefaultAndDeadLettersWaitForAnOperator() {
        Env env = new Env(Map.of());
        RetentionSettings s = RetentionSettings.from(env);

        assertThat(env.problems()).isEmpty();
        assertThat(s.windows())
                .containsEntry(RetentionTarget.CLAUDE_EVENTS, Optional.of(Duration.ofDays(30)))
                .containsEntry(RetentionTarget.TRAINING_JOBS, Optional.of(Duration.ofDays(90)))
                .containsEntry(RetentionTarget.DOCUMENT_TOMBSTONES, Optional.of(Duration.ofDays(30)))
                .containsEntry(RetentionTarget.OUTBOX_DEAD_LETTERS, Optional.empty())
                .containsEntry(RetentionTarget.DEAD_LETTER_DISPOSITIONS, Optional.of(Duration.ofDays(90)))
                .containsEntry(RetentionTarget.CONSUMER_OFFSETS, Optional.of(Duration.ofDays(30)));
        assertThat(s.batch()).isEqualTo(1000);
        assertThat(s.interval()).isEqualTo(Duration.ofHours(1));
        assertThat(s.scheduler()).isEqualTo(RetentionSettings.Scheduler.AUTO);
    }

    @Test
    void windowsAreDurationsInDaysOrHoursOrOff() {
        Env env = new Env(Map.of(
                "RAGLINE_RETENTION_CLAUDE_EVENTS", "7d",
                "RAGLINE_RETENTION_TRAINING_JOBS", "off",
                "RAGLINE_RETENTION_OUTBOX_DEAD_LETTERS", "P60D",
                "RAGLINE_RETENTION_SCHEDULER", "in_process"));
        RetentionSettings s = RetentionSettings.from(env);

        assertThat(env.problems()).isEmpty();
        assertThat(s.enabled())
                .containsEntry(RetentionTarget.CLAUDE_EVENTS, Duration.ofDays(7))
                .containsEntry(RetentionTarget.OUTBOX_DEAD_LETTERS, Duration.ofDays(60))
                .doesNotContainKey(RetentionTarget.TRAINING_JOBS);
        assertThat(s.toString()).contains("claude_events=168h", "training_jobs=off", "scheduler=in_process");
    }

    @Test
    void everyBadSettingIsNamedAtOnce() {
        Env env = new Env(Map.of(
                "RAGLINE_RETENTION_CLAUDE_EVENTS", "10m",
                "RAGLINE_RETENTION_DOCUMENT_TOMBSTONES", "forever",
                "RAGLINE_RETENTION_BATCH", "0",
                "RAGLINE_RETENTION_INTERVAL", "100ms",
                "RAGLINE_RETENTION_SCHEDULER", "cron"));
        RetentionSettings.from(env);

        assertThat(env.problems())
                .anySatisfy(p ->
                        assertThat(p).isEqualTo("RAGLINE_RETENTION_CLAUDE_EVENTS='10m' must be at least 1h, or off"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_RETENTION_DOCUMENT_TOMBSTONES='forever'"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_RETENTION_BATCH='0' must be between 1 and 100000"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_RETENTION_INTERVAL='100ms' must be at least 1s"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_RETENTION_SCHEDULER='cron'"))
                .hasSize(5);
    }

    @Test
    void theDefaultsAreTheReadmes() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables()).containsAll(ReadmeConfiguration.variablesOf(RetentionSettings.class));
        for (RetentionTarget t : RetentionTarget.values()) {
            String documented = readme.defaultOf(t.variable());
            assertThat(documented).as(t.variable()).isNotNull();
            String value = documented.replace("`", "");
            assertThat(value.equals("off") ? Optional.<Duration>empty() : Optional.of(Env.parseDuration(value)))
                    .as(t.variable())
                    .isEqualTo(t.defaultWindow());
        }
        assertThat(readme.defaultOf(RetentionSettings.BATCH)).isEqualTo(code(RetentionSettings.DEFAULT_BATCH));
        assertThat(readme.defaultOf(RetentionSettings.INTERVAL))
                .isEqualTo(code(Problems.text(RetentionSettings.DEFAULT_INTERVAL)));
        assertThat(readme.defaultOf(RetentionSettings.SCHEDULER)).isEqualTo(code("auto"));
    }
}
