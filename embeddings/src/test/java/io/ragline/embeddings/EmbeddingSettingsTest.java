package io.ragline.embeddings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import io.ragline.embeddings.EmbeddingSettings.Provider;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EmbeddingSettingsTest {
    @Test
    void withNothingSetTheDefaultIsOfflineOnnxMiniLm() {
        Env env = new Env(Map.of());
        EmbeddingSettings s = EmbeddingSettings.from(env);
        env.validate();
        assertThat(s.provider()).isEqualTo(Provider.ONNX);
        assertThat(s.model()).isEqualTo("all-MiniLM-L6-v2");
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
    void anUnknownOnnxModelOrAMismatchedDimensionIsAProblemListingTheKnownModels() {
        Env env = new Env(Map.of("RAGLINE_EMBEDDING_MODEL", "e5-large", "RAGLINE_EMBEDDING_DIMENSIONS", "1024"));
        EmbeddingSettings.from(env);
        assertThat(env.problems())
                .containsExactly(
                        "RAGLINE_EMBEDDING_MODEL='e5-large' is not a known model; known: all-MiniLM-L6-v2,"
                                + " all-MiniLM-L6-v2-q, bge-small-en-v1.5, bge-small-en-v1.5-q",
                        "RAGLINE_EMBEDDING_DIMENSIONS='1024' does not match model all-MiniLM-L6-v2 (384);"
                                + " leave it unset for onnx");
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
