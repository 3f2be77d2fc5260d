package io.ragline.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnvTest {

    @Test
    void durationsAcceptUnitsAndIso8601() {
        Env env = new Env(Map.of("A", "250ms", "B", "10s", "C", "5m", "D", "2h", "E", "PT3S"));

        assertThat(env.duration("A", Duration.ZERO)).isEqualTo(Duration.ofMillis(250));
        assertThat(env.duration("B", Duration.ZERO)).isEqualTo(Duration.ofSeconds(10));
        assertThat(env.duration("C", Duration.ZERO)).isEqualTo(Duration.ofMinutes(5));
        assertThat(env.duration("D", Duration.ZERO)).isEqualTo(Duration.ofHours(2));
        assertThat(env.duration("E", Duration.ZERO)).isEqualTo(Duration.ofSeconds(3));
        assertThat(env.problems()).isEmpty();
    }

    @Test
    void remembersEveryNameItWasAskedForSetOrNotAndTheFileVariableOfASecret() {
        Env env = new Env(Map.of("SET", "1", "UNREAD", "x"));

        env.integer("SET", 0);
        env.string("UNSET", "default");
        env.secret("TOKEN");

        assertThat(env.asked()).containsExactly("SET", "TOKEN", "TOKEN_FILE", "UNSET");
    }

    @Test
    void aPrefixScanListsNamesWithoutReadingThem() {
        Env env = new Env(Map.of("P_A", "1", "P_B", " ", "Q_C", "2"));

        assertThat(env.names("P_")).containsExactly("P_A", "P_B");
        assertThat(env.scanned()).containsExactly("P_");
        assertThat(env.asked()).isEmpty();
    }

    @Test
    void everyBadValueIsReportedAtOnceNamingItsVariable() {
        Env env = new Env(Map.of("PORT", "http", "FLAG", "maybe", "WAIT", "soon", "SIZE", "0"));

        env.port("PORT", 1);
        env.bool("FLAG", false);
        env.duration("WAIT", Duration.ZERO);
        env.integer("SIZE", 1, 1, 10);
        env.required("MISSING", "a hint");

        assertThatThrownBy(env::validate)
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("5 problems")
                .hasMessageContaining("PORT='http'")
                .hasMessageContaining("FLAG='maybe' must be true or false")
                .hasMessageContaining("WAIT='soon'")
                .hasMessageContaining("SIZE='0' must be between 1 and 10")
                .hasMessageContaining("MISSING is not set (a hint)");
    }

    @Test
    void defaultsApplyWhenUnsetOrBlank() {
        Env env = new Env(Map.of("BLANK", "  "));

        assertThat(env.integer("BLANK", 7, 0, 10)).isEqualTo(7);
        assertThat(env.string("UNSET", "x")).isEqualTo("x");
        assertThat(env.problems()).isEmpty();
    }

    @Test
    void devEnvFileValuesAreReadWithShellQuotingUndone(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("dev.env");
        Files.writeString(file, "# comment\nA='x y'\nB=plain\nC='it'\\''s'\n\n");

        assertThat(Env.readEnvFile(file))
                .containsEntry("A", "x y")
                .containsEntry("B", "plain")
                .containsEntry("C", "it's");
    }

    @Test
    void aRefusingConstructorsProblemsJoinTheEnvsLessThoseAboutAVariableAlreadyReported() {
        Env env = new Env(Map.of("RAGLINE_SIZE", "big"));
        env.integer("RAGLINE_SIZE", 1);

        String built = env.build(
                () -> {
                    throw new ConfigException(List.of(
                            "RAGLINE_LIMIT='2' must not be below RAGLINE_SIZE='1'", "RAGLINE_OTHER='0' is bad"));
                },
                () -> "the fallback");

        assertThat(built).isEqualTo("the fallback");
        assertThat(env.problems())
                .containsExactly("RAGLINE_SIZE='big' is not a valid value", "RAGLINE_OTHER='0' is bad");
    }

    @Test
    void aConstructorThatAcceptsIsWhatBuildReturns() {
        Env env = new Env(Map.of());

        assertThat(env.build(() -> "built", () -> "the fallback")).isEqualTo("built");
        assertThat(env.problems()).isEmpty();
    }

    @Test
    void durationsAreWrittenBackAsAnOperatorWritesThem() {
        assertThat(Problems.text(Duration.ofMillis(500))).isEqualTo("500ms");
        assertThat(Problems.text(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(Problems.text(Duration.ofSeconds(10))).isEqualTo("10s");
        assertThat(Problems.text(Duration.ofMinutes(5))).isEqualTo("5m");
        assertThat(Problems.text(Duration.ofHours(2))).isEqualTo("2h");
        assertThat(Problems.text(Duration.ZERO)).isEqualTo("0s");
        assertThat(Problems.text(Duration.ofNanos(1500))).isEqualTo("PT0.0000015S");
    }
}
