package io.ragline.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import io.ragline.testkit.ReadmeConfiguration;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NonServingSettingsTest {
    @Test
    void theDeadlineDefaultsToTenSeconds() {
        Env env = new Env(Map.of());

        assertThat(NonServingSettings.from(env).deadline()).isEqualTo(Duration.ofSeconds(10));
        assertThat(env.problems()).isEmpty();
    }

    @Test
    void aDeadlineOfZeroOrPastFiveMinutesIsAProblemNamingTheVariable() {
        Env zero = new Env(Map.of(NonServingSettings.DEADLINE, "0s"));
        Env tooLong = new Env(Map.of(NonServingSettings.DEADLINE, "6m"));

        NonServingSettings.from(zero);
        NonServingSettings.from(tooLong);

        assertThat(zero.problems()).singleElement().asString().contains("RAGLINE_EMBEDDING_NONSERVING_DEADLINE='0s'");
        assertThat(tooLong.problems())
                .singleElement()
                .asString()
                .contains("RAGLINE_EMBEDDING_NONSERVING_DEADLINE='6m' must be at most 5m");
    }

    @Test
    void theReadmeDocumentsTheVariableAndItsDefault() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables()).containsAll(ReadmeConfiguration.variablesOf(NonServingSettings.class));
        assertThat(readme.defaultOf(NonServingSettings.DEADLINE))
                .isEqualTo(ReadmeConfiguration.code(Problems.text(NonServingSettings.DEFAULT_DEADLINE)));
    }
}
