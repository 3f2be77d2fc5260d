package io.ragline.embeddings;

import static io.ragline.testkit.ReadmeConfiguration.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import io.ragline.core.config.Secret;
import io.ragline.embeddings.EmbeddingSettings.Provider;
import io.ragline.embeddings.openai.OpenAiSettings;
import io.ragline.testkit.ReadmeConfiguration;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EmbeddingSettingsTest {
    @Test
    void withNothingSetTheDefaultIsOfflineOnnxMiniLm() {
        Env env = new Env(Map.of());
        EmbeddingSettings s = EmbeddingSettings.from(env);
        env.validate();
        assertThat(s.provider()).isEqualTo(Provider.ONNX);
        assertThat(s.model()).isEqualTo("all-MiniLM-L6-v2-q");
        assertThat(s.dimensions()).isEqualTo(384);
        assertThat(s.maxTokens()).isEqualTo(256);
        assertThat(s.batchSize()).isEqualTo(64);
        assertThat(s.onnxThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(s.openai()).isNull();
    }

    @Test
    void openAiSettingsAreReadAndTheKeyIsMaskedWhenPrinted() {
        Env env = new Env(Map.of(
                "RAGLINE_EMBEDDING_PROVIDER", "openai",
                "RAGLINE_OPENAI_BASE_URL", "http://localhost:11434",
                "RAGLINE_OPENAI_API_KEY", "sk-secret-value",
                "RAGLINE_OPENAI_MODEL", "nomic-embed-text",
                "RAGLINE_EMBEDDING_DIMENSIONS", "768",
                "RAGLINE_OPENAI_RATE_LIMIT", "0.5",
                "RAGLINE_OPENAI_TIMEOUT", "10s",
                "RAGLINE_EMBEDDING_BATCH_SIZE", "16"));
        EmbeddingSettings s = EmbeddingSettings.from(env);
        env.validate();
        assertThat(s.model()).isEqualTo("nomic-embed-text");
        assertThat(s.openai().endpoint()).hasToString("http://localhost:11434/v1/embeddings");
        assertThat(s.openai().requestsPerSecond()).isEqualTo(0.5);
        assertThat(s.openai().requestTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.openai().batchSize()).isEqualTo(16);
        assertThat(s.openai().dimensions()).isEqualTo(768);
        assertThat(s.openai().apiKey().reveal()).isEqualTo("sk-secret-value");
        assertThat(s.toString()).doesNotContain("sk-secret-value").contains("<masked>");
    }

    @Test
    void theOpenAiKeyIsReadFromItsFile() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("openai-key", "");
        java.nio.file.Files.writeString(file, "sk-from-file\n");
        Env env = new Env(Map.of(
                "RAGLINE_EMBEDDING_PROVIDER", "openai",
                "RAGLINE_OPENAI_BASE_URL", "http://localhost:11434",
                "RAGLINE_OPENAI_API_KEY_FILE", file.toString(),
                "RAGLINE_OPENAI_MODEL", "nomic-embed-text",
                "RAGLINE_EMBEDDING_DIMENSIONS", "768"));

        EmbeddingSettings s = EmbeddingSettings.from(env);

        env.validate();
        assertThat(s.openai().apiKey().reveal()).isEqualTo("sk-from-file");
        java.nio.file.Files.delete(file);
    }

    @Test
    void everyProblemIsReportedAtOnceNamingItsVariable() {
        Env env = new Env(Map.of(
                "RAGLINE_EMBEDDING_PROVIDER", "openai",
                "RAGLINE_OPENAI_BASE_URL", "ftp://example",
                "RAGLINE_OPENAI_RATE_LIMIT", "fast",
                "RAGLINE_EMBEDDING_BATCH_SIZE", "0",
                "RAGLINE_ONNX_THREADS", "many"));
        EmbeddingSettings.from(env);
        assertThatThrownBy(env::validate)
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("RAGLINE_OPENAI_BASE_URL='ftp://example' must be an http or https URL")
                .hasMessageContaining("RAGLINE_OPENAI_RATE_LIMIT='fast'")
                .hasMessageContaining("RAGLINE_EMBEDDING_BATCH_SIZE='0'")
                .hasMessageContaining("RAGLINE_ONNX_THREADS='many'");
    }

    @Test
    void openAiWithoutABaseUrlIsAProblem() {
        Env env = new Env(Map.of("RAGLINE_EMBEDDING_PROVIDER", "openai"));
        EmbeddingSettings.from(env);
        assertThat(env.problems()).anySatisfy(p -> assertThat(p).startsWith("RAGLINE_OPENAI_BASE_URL is not set"));
    }

    @Test
    void anUnknownOnnxModelIsAProblemListingTheKnownModels() {
        Env env = new Env(Map.of("RAGLINE_EMBEDDING_MODEL", "e5-large", "RAGLINE_EMBEDDING_DIMENSIONS", "1024"));
        EmbeddingSettings.from(env);
        assertThat(env.problems())
                .containsExactly("RAGLINE_EMBEDDING_MODEL='e5-large' is not a known model; known: all-MiniLM-L6-v2-q,"
                        + " all-MiniLM-L6-v2, bge-small-en-v1.5, bge-small-en-v1.5-q");
    }

    @Test
    void dimensionsOrAWindowOtherThanTheOnnxModelsAreProblems() {
        Env env = new Env(Map.of(
                "RAGLINE_EMBEDDING_MODEL", "bge-small-en-v1.5",
                "RAGLINE_EMBEDDING_DIMENSIONS", "1024",
                "RAGLINE_EMBEDDING_MAX_TOKENS", "256"));
        EmbeddingSettings.from(env);
        assertThat(env.problems())
                .containsExactly(
                        "RAGLINE_EMBEDDING_DIMENSIONS='1024' does not match model bge-small-en-v1.5 (384);"
                                + " leave it unset for onnx",
                        "RAGLINE_EMBEDDING_MAX_TOKENS='256' does not match model bge-small-en-v1.5 (512);"
                                + " leave it unset for onnx");
    }

    @Test
    void theConstructorRefusesBadValuesNamingEachVariable() {
        assertThatThrownBy(() -> new EmbeddingSettings(Provider.OPENAI, "m", 0, 2, 5000, 0, null))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .containsExactly(
                                "RAGLINE_EMBEDDING_DIMENSIONS='0' must be between 1 and 16000",
                                "RAGLINE_EMBEDDING_MAX_TOKENS='2' must be between 3 and 1000000",
                                "RAGLINE_EMBEDDING_BATCH_SIZE='5000' must be between 1 and 4096",
                                "RAGLINE_ONNX_THREADS='0' must be between 1 and 256",
                                "RAGLINE_OPENAI_BASE_URL is not set (" + EmbeddingSettings.OPENAI_BASE_URL_HINT + ")"));
    }

    @Test
    void theOpenAiConstructorRefusesBadValuesNamingEachVariableButNeverTheKeyOrThePassword() {
        assertThatThrownBy(() -> new OpenAiSettings(
                        URI.create("ftp://user:pa55word@example"),
                        Secret.of("sk-secret-value"),
                        " ",
                        OpenAiSettings.DEFAULT_DIMENSIONS,
                        OpenAiSettings.DEFAULT_MAX_TOKENS,
                        EmbeddingSettings.DEFAULT_BATCH_SIZE,
                        0,
                        101,
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(1),
                        Duration.ZERO))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .containsExactly(
                                "RAGLINE_OPENAI_BASE_URL='ftp://user:<masked>@example' must be an http or https URL",
                                "RAGLINE_OPENAI_MODEL must not be empty",
                                "RAGLINE_OPENAI_RATE_LIMIT='0.0' must be a positive number of requests per second",
                                "RAGLINE_OPENAI_MAX_ATTEMPTS='101' must be between 1 and 100",
                                "maxBackoff (PT1S) must not be below initialBackoff (PT2S)",
                                "RAGLINE_OPENAI_TIMEOUT='0s' must be longer than 0 and at most 24 days"))
                .hasMessageNotContaining("pa55word")
                .hasMessageNotContaining("sk-secret-value");
    }

    @Test
    void fromNamesEveryBadOpenAiVariableAtOnce() {
        Env env = new Env(Map.of(
                "RAGLINE_EMBEDDING_PROVIDER", "openai",
                "RAGLINE_OPENAI_BASE_URL", "http://localhost:11434",
                "RAGLINE_OPENAI_RATE_LIMIT", "-2",
                "RAGLINE_OPENAI_MAX_ATTEMPTS", "0",
                "RAGLINE_OPENAI_TIMEOUT", "0s",
                "RAGLINE_EMBEDDING_DIMENSIONS", "20000"));
        EmbeddingSettings s = EmbeddingSettings.from(env);
        assertThat(env.problems())
                .containsExactly(
                        "RAGLINE_EMBEDDING_DIMENSIONS='20000' must be between 1 and 16000",
                        "RAGLINE_OPENAI_RATE_LIMIT='-2.0' must be a positive number of requests per second",
                        "RAGLINE_OPENAI_MAX_ATTEMPTS='0' must be between 1 and 100",
                        "RAGLINE_OPENAI_TIMEOUT='0s' must be longer than 0 and at most 24 days");
        assertThat(s).isEqualTo(EmbeddingSettings.defaults());
    }

    @Test
    void theDefaultsAreTheReadmes() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables()).containsAll(ReadmeConfiguration.variablesOf(EmbeddingSettings.class));
        assertThat(readme.defaultOf(EmbeddingSettings.PROVIDER))
                .isEqualTo(code(EmbeddingSettings.DEFAULT_PROVIDER.name().toLowerCase(Locale.ROOT)));
        assertThat(readme.defaultOf(EmbeddingSettings.MODEL))
                .isEqualTo(code(ModelCatalog.DEFAULT_MODEL) + " (`pgml`: " + code(EmbeddingSettings.DEFAULT_PGML_MODEL)
                        + ")");
        assertThat(readme.defaultOf(EmbeddingSettings.DIMENSIONS))
                .isEqualTo("from the model (`openai` " + OpenAiSettings.DEFAULT_DIMENSIONS + ", `pgml` "
                        + EmbeddingSettings.DEFAULT_PGML_DIMENSIONS + ")");
        assertThat(readme.defaultOf(EmbeddingSettings.MAX_TOKENS))
                .isEqualTo("from the model (`openai` " + OpenAiSettings.DEFAULT_MAX_TOKENS + ", `pgml` "
                        + EmbeddingSettings.DEFAULT_PGML_MAX_TOKENS + ")");
        assertThat(readme.defaultOf(EmbeddingSettings.BATCH_SIZE))
                .isEqualTo(code(EmbeddingSettings.DEFAULT_BATCH_SIZE));
        assertThat(readme.defaultOf(EmbeddingSettings.ONNX_THREADS)).isEqualTo("available cores");
        assertThat(readme.defaultOf(EmbeddingSettings.OPENAI_BASE_URL)).startsWith("— (required");
        assertThat(readme.defaultOf(EmbeddingSettings.OPENAI_API_KEY)).isEqualTo("empty");
        assertThat(readme.defaultOf(EmbeddingSettings.OPENAI_API_KEY + "_FILE")).isEqualTo("none");
        assertThat(readme.defaultOf(EmbeddingSettings.OPENAI_MODEL)).isEqualTo(code(OpenAiSettings.DEFAULT_MODEL));
        assertThat(OpenAiSettings.DEFAULT_REQUESTS_PER_SECOND).isEqualTo(10.0);
        assertThat(readme.defaultOf(EmbeddingSettings.OPENAI_RATE_LIMIT)).isEqualTo(code(10));
        assertThat(readme.defaultOf(EmbeddingSettings.OPENAI_MAX_ATTEMPTS))
                .isEqualTo(code(OpenAiSettings.DEFAULT_MAX_ATTEMPTS));
        assertThat(readme.defaultOf(EmbeddingSettings.OPENAI_TIMEOUT))
                .isEqualTo(code(Problems.text(OpenAiSettings.DEFAULT_REQUEST_TIMEOUT)));
    }

    @Test
    void pgmlDefaultsToE5SmallWith384Dimensions() {
        Env env = new Env(Map.of("RAGLINE_EMBEDDING_PROVIDER", "PGML"));
        EmbeddingSettings s = EmbeddingSettings.from(env);
        env.validate();
        assertThat(s.model()).isEqualTo("intfloat/e5-small-v2");
        assertThat(s.dimensions()).isEqualTo(384);
    }

    @Test
    void theFactoryBuildsTheConfiguredOnnxModel() {
        Env env = new Env(Map.of("RAGLINE_EMBEDDING_MODEL", "all-MiniLM-L6-v2-q", "RAGLINE_ONNX_THREADS", "1"));
        try (EmbeddingProvider p = EmbeddingProviders.create(EmbeddingSettings.from(env), null)) {
            assertThat(p.model()).isEqualTo("all-MiniLM-L6-v2-q");
            assertThat(p.embedQuery("hello")).hasSize(384);
        }
    }

    @Test
    void thePgmlProviderNeedsADataSource() {
        Env env = new Env(Map.of("RAGLINE_EMBEDDING_PROVIDER", "pgml"));
        assertThatThrownBy(() -> EmbeddingProviders.create(EmbeddingSettings.from(env), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DataSource");
    }
}
