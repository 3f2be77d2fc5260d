package io.ragline.embeddings;

import io.ragline.core.config.Env;
import io.ragline.core.config.Secret;
import io.ragline.embeddings.openai.OpenAiSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Objects;

/**
 * Which embedding provider and model a worker uses, read from {@code RAGLINE_*} variables.
 *
 * @param provider where vectors are computed
 * @param model for {@code onnx} a {@link ModelCatalog} name, for {@code pgml} a Hugging Face model,
 *     for {@code openai} the {@code model} field sent
 * @param dimensions vector length (fixed by the catalog for {@code onnx})
 * @param maxTokens the model's window (fixed by the catalog for {@code onnx})
 * @param batchSize texts per model run or per request
 * @param onnxThreads cores ONNX Runtime uses for one call, one single-threaded run per core
 * @param openai the endpoint settings; null unless {@code provider} is {@code openai}
 */
public record EmbeddingSettings(
        Provider provider,
        String model,
        int dimensions,
        int maxTokens,
        int batchSize,
        int onnxThreads,
        OpenAiSettings openai) {

    public static final String PROVIDER = "RAGLINE_EMBEDDING_PROVIDER";
    public static final String MODEL = "RAGLINE_EMBEDDING_MODEL";
    public static final String DIMENSIONS = "RAGLINE_EMBEDDING_DIMENSIONS";
    public static final String MAX_TOKENS = "RAGLINE_EMBEDDING_MAX_TOKENS";
    public static final String BATCH_SIZE = "RAGLINE_EMBEDDING_BATCH_SIZE";
    public static final String ONNX_THREADS = "RAGLINE_ONNX_THREADS";
    public static final String OPENAI_BASE_URL = "RAGLINE_OPENAI_BASE_URL";
    public static final String OPENAI_API_KEY = "RAGLINE_OPENAI_API_KEY";
    public static final String OPENAI_MODEL = "RAGLINE_OPENAI_MODEL";
    public static final String OPENAI_RATE_LIMIT = "RAGLINE_OPENAI_RATE_LIMIT";
    public static final String OPENAI_MAX_ATTEMPTS = "RAGLINE_OPENAI_MAX_ATTEMPTS";
    public static final String OPENAI_TIMEOUT = "RAGLINE_OPENAI_TIMEOUT";

    public static final int DEFAULT_BATCH_SIZE = 64;
    public static final String DEFAULT_PGML_MODEL = "intfloat/e5-small-v2";
    public static final int DEFAULT_PGML_DIMENSIONS = 384;
    public static final int DEFAULT_PGML_MAX_TOKENS = 512;

    /** Where vectors are computed. */
    public enum Provider {
        /** In this JVM with ONNX Runtime and a model from {@link ModelCatalog}; offline. */
        ONNX,
        /** An OpenAI-compatible HTTP endpoint (OpenAI, Ollama, vLLM, TEI). */
        OPENAI,
        /** PostgresML's {@code pgml.embed} in the database. */
        PGML
    }

    public EmbeddingSettings {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(model, "model");
        if (provider == Provider.OPENAI) {
            Objects.requireNonNull(openai, "openai settings");
        }
    }

    /**
     * Reads every embedding variable; problems are recorded in {@code env} (call {@link
     * Env#validate()} after reading all settings), never thrown, so all are reported at once.
     */
    public static EmbeddingSettings from(Env env) {
        Provider provider = env.choice(PROVIDER, Provider.ONNX, Provider.class);
        int batchSize = env.integer(BATCH_SIZE, DEFAULT_BATCH_SIZE, 1, 4096);
        int cores = Runtime.getRuntime().availableProcessors();
        int threads = env.integer(ONNX_THREADS, cores, 1, 256);
        return switch (provider) {
            case ONNX -> onnx(env, batchSize, threads);
            case PGML ->
                new EmbeddingSettings(
                        provider,
                        env.string(MODEL, DEFAULT_PGML_MODEL),
                        env.integer(DIMENSIONS, DEFAULT_PGML_DIMENSIONS, 1, 16_000),
                        env.integer(MAX_TOKENS, DEFAULT_PGML_MAX_TOKENS, 3, 1_000_000),
                        batchSize,
                        threads,
                        null);
            case OPENAI -> openai(env, batchSize, threads);
        };
    }

    private static EmbeddingSettings onnx(Env env, int batchSize, int threads) {
        String name = env.string(MODEL, ModelCatalog.DEFAULT_MODEL);
        EmbeddingModelSpec spec;
        try {
            spec = ModelCatalog.get(name);
        } catch (IllegalArgumentException e) {
            env.problem(
                    MODEL + "='" + name + "' is not a known model; known: " + String.join(", ", ModelCatalog.names()));
            spec = ModelCatalog.defaultModel();
        }
        fixedByModel(env, DIMENSIONS, spec.dimensions(), spec);
        fixedByModel(env, MAX_TOKENS, spec.maxTokens(), spec);
        return new EmbeddingSettings(
                Provider.ONNX, spec.name(), spec.dimensions(), spec.maxTokens(), batchSize, threads, null);
    }

    private static void fixedByModel(Env env, String name, int value, EmbeddingModelSpec spec) {
        env.raw(name)
                .filter(v -> !v.equals(String.valueOf(value)))
                .ifPresent(v -> env.problem(name + "='" + v + "' does not match model " + spec.name() + " (" + value
                        + "); leave it unset for onnx"));
    }

    private static EmbeddingSettings openai(Env env, int batchSize, int threads) {
        URI base = URI.create("http://localhost");
        String raw = env.required(OPENAI_BASE_URL, "e.g. https://api.openai.com or http://localhost:11434 (Ollama)");
        if (raw != null) {
            try {
                base = new URI(raw);
                if (!"http".equals(base.getScheme()) && !"https".equals(base.getScheme()) || base.getHost() == null) {
                    env.problem(OPENAI_BASE_URL + "='" + raw + "' must be an http or https URL");
                    base = URI.create("http://localhost");
                }
            } catch (URISyntaxException e) {
                env.problem(OPENAI_BASE_URL + "='" + raw + "' is not a URL");
            }
        }
        double rps = OpenAiSettings.DEFAULT_REQUESTS_PER_SECOND;
        String rawRps = env.raw(OPENAI_RATE_LIMIT).orElse(null);
        if (rawRps != null) {
            try {
                rps = Double.parseDouble(rawRps);
            } catch (NumberFormatException e) {
                rps = -1;
            }
            if (!(rps > 0) || Double.isInfinite(rps)) {
                env.problem(OPENAI_RATE_LIMIT + "='" + rawRps + "' must be a positive number of requests per second");
                rps = OpenAiSettings.DEFAULT_REQUESTS_PER_SECOND;
            }
        }
        String model = env.string(OPENAI_MODEL, OpenAiSettings.DEFAULT_MODEL);
        int dimensions = env.integer(DIMENSIONS, OpenAiSettings.DEFAULT_DIMENSIONS, 1, 16_000);
        int maxTokens = env.integer(MAX_TOKENS, OpenAiSettings.DEFAULT_MAX_TOKENS, 3, 1_000_000);
        Duration timeout = env.duration(OPENAI_TIMEOUT, OpenAiSettings.DEFAULT_REQUEST_TIMEOUT);
        if (timeout.isZero()) {
            env.problem(OPENAI_TIMEOUT + " must be longer than 0");
            timeout = OpenAiSettings.DEFAULT_REQUEST_TIMEOUT;
        }
        OpenAiSettings openai = new OpenAiSettings(
                base,
                Secret.of(env.string(OPENAI_API_KEY, "")),
                model,
                dimensions,
                maxTokens,
                batchSize,
                rps,
                env.integer(OPENAI_MAX_ATTEMPTS, OpenAiSettings.DEFAULT_MAX_ATTEMPTS, 1, 100),
                OpenAiSettings.DEFAULT_INITIAL_BACKOFF,
                OpenAiSettings.DEFAULT_MAX_BACKOFF,
                timeout);
        return new EmbeddingSettings(Provider.OPENAI, model, dimensions, maxTokens, batchSize, threads, openai);
    }
}
