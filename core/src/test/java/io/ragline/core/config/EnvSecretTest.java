package io.ragline.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnvSecretTest {
    @TempDir
    Path dir;

    @Test
    void aSecretIsReadFromTheFileItsFileVariableNamesWithoutTheTrailingNewline() throws Exception {
        Path file = Files.writeString(dir.resolve("password"), "s3cret-value\n");
        Env env = new Env(Map.of("DATABASE_PASSWORD_FILE", file.toString()));

        assertThat(env.secret("DATABASE_PASSWORD")).map(Secret::reveal).contains("s3cret-value");
        assertThat(env.problems()).isEmpty();
    }

    @Test
    void theVariableItselfStillWorks() {
        Env env = new Env(Map.of("DATABASE_PASSWORD", "direct"));

        assertThat(env.secret("DATABASE_PASSWORD")).map(Secret::reveal).contains("direct");
    }

    @Test
    void bothSetIsAProblemThatNamesBothAndHoldsNeitherValue() throws Exception {
        Path file = Files.writeString(dir.resolve("password"), "from-file");
        Env env = new Env(Map.of("DATABASE_PASSWORD", "direct-value", "DATABASE_PASSWORD_FILE", file.toString()));

        assertThat(env.secret("DATABASE_PASSWORD")).isEmpty();
        assertThat(env.problems())
                .singleElement()
                .asString()
                .contains("DATABASE_PASSWORD and DATABASE_PASSWORD_FILE are both set")
                .doesNotContain("direct-value", "from-file");
    }

    @Test
    void aMissingOrEmptyFileIsAProblemNamingTheVariableAndThePath() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        Env env = new Env(Map.of(
                "RAGLINE_API_TOKENS_FILE",
                dir.resolve("absent").toString(),
                "RAGLINE_OPENAI_API_KEY_FILE",
                empty.toString()));

        assertThat(env.secret("RAGLINE_API_TOKENS")).isEmpty();
        assertThat(env.secret("RAGLINE_OPENAI_API_KEY")).isEmpty();
        assertThat(env.problems())
                .containsExactly(
                        "RAGLINE_API_TOKENS_FILE='" + dir.resolve("absent") + "' cannot be read (NoSuchFileException)",
                        "RAGLINE_OPENAI_API_KEY_FILE='" + empty + "' names an empty file");
    }

    @Test
    void aRequiredSecretSetNowhereNamesBothWaysToSetIt() {
        Env env = new Env(Map.of());

        assertThat(env.requiredSecret("DATABASE_URL", "postgresql://...")).isNull();
        assertThat(env.problems()).singleElement().asString().contains("DATABASE_URL is not set", "DATABASE_URL_FILE");
    }
}
