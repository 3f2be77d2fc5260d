package io.ragline.embeddings;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import io.ragline.core.config.Secret;
import io.ragline.embeddings.openai.OpenAiSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

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
    public static final Provider DEFAULT_PROVIDER = Provider.ONNX;
    /** Defaults: {@link ModelCatalog#DEFAULT_MODEL} for onnx, {@link #DEFAULT_PGML_MODEL} for pgml. */
    public static final String MODEL = "RAGLINE_EMBEDDING_MODEL";

    public static final String DEFAULT_PGML_MODEL = "intfloat/e5-small-v2";
    /** Fixed by the model for onnx; defaults {@link #DEFAULT_PGML_DIMENSIONS}, {@link OpenAiSettings#DEFAULT_DIMENSIONS}. */
    public static final String DIMENSIONS = "RAGLINE_EMBEDDING_DIMENSIONS";

    public static final int DEFAULT_PGML_DIMENSIONS = 384;
    public static final int MAX_DIMENSIONS = 16_000;
    /** Fixed by the model for onnx; defaults {@link #DEFAULT_PGML_MAX_TOKENS}, {@link OpenAiSettings#DEFAULT_MAX_TOKENS}. */
    public static final String MAX_TOKENS = "RAGLINE_EMBEDDING_MAX_TOKENS";

    public static final int DEFAULT_PGML_MAX_TOKENS = 512;
    public static final String BATCH_SIZE = "RAGLINE_EMBEDDING_BATCH_SIZE";
    public static final int DEFAULT_BATCH_SIZE = 64;
    public static final String ONNX_THREADS = "RAGLINE_ONNX_THREADS";
    public static final int DEFAULT_ONNX_THREADS = Runtime.getRuntime().availableProcessors();
    /** Required with the openai provider. */
    public static final String OPENAI_BASE_URL = "RAGLINE_OPENAI_BASE_URL";
    /** Empty by default (servers that want none). */
    public static final String OPENAI_API_KEY = "RAGLINE_OPENAI_API_KEY";

    public static final String OPENAI_MODEL = "RAGLINE_OPENAI_MODEL";
    public static final String OPENAI_RATE_LIMIT = "RAGLINE_OPENAI_RATE_LIMIT";
    public static final String OPENAI_MAX_ATTEMPTS = "RAGLINE_OPENAI_MAX_ATTEMPTS";
    public static final String OPENAI_TIMEOUT = "RAGLINE_OPENAI_TIMEOUT";

    public static final String OPENAI_BASE_URL_HINT = "e.g. https://api.openai.com or http://localhost:11434 (Ollama)";

    /** Where vectors are computed. */
    public enum Provider {
        /** In this JVM with ONNX Runtime and a model from {@link ModelCatalog}; offline. */
        ONNX,
        /** An OpenAI-compatible HTTP endpoint (OpenAI, Ollama, vLLM, TEI). */
        OPENAI,
        /** PostgresML's {@code pgml.embed} in the database. */
        PGML
    }

    /** Every rule of every field; each problem names its variable. */
    public EmbeddingSettings {
        Problems p = new Problems();
        p.present(PROVIDER, provider);
        if (p.present(MODEL, model, "") && provider == Provider.ONNX) {
            onnxModelRules(p, model, dimensions, maxTokens);
        }
        sizeRules(p, dimensions, maxTokens, batchSize);
        p.between(ONNX_THREADS, onnxThreads, 1, 256);
        if (provider == Provider.OPENAI) {
            p.present(OPENAI_BASE_URL, openai, OPENAI_BASE_URL_HINT);
        }
        p.throwIfAny();
    }

    /** The ranges of the sizes every provider has; {@link OpenAiSettings} keeps them too. */
    public static void sizeRules(Problems p, int dimensions, int maxTokens, int batchSize) {
        p.between(DIMENSIONS, dimensions, 1, MAX_DIMENSIONS);
        p.between(MAX_TOKENS, maxTokens, 3, 1_000_000);
        p.between(BATCH_SIZE, batchSize, 1, 4096);
    }

    /** An onnx model is one of the catalog, whose dimensions and window are fixed. */
    private static void onnxModelRules(Problems p, String model, int dimensions, int maxTokens) {
        if (!ModelCatalog.names().contains(model)) {
            p.check(
                    false,
                    Problems.quoted(MODEL, model) + " is not a known model; known: "
                            + String.join(", ", ModelCatalog.names()));
            return;
        }
        EmbeddingModelSpec spec = ModelCatalog.get(model);
        p.check(dimensions == spec.dimensions(), fixedByModel(DIMENSIONS, dimensions, spec.dimensions(), model));
        p.check(maxTokens == spec.maxTokens(), fixedByModel(MAX_TOKENS, maxTokens, spec.maxTokens(), model));
    }

    private static String fixedByModel(String variable, int value, int fixed, String model) {
        return Problems.quoted(variable, value) + " does not match model " + model + " (" + fixed
                + "); leave it unset for onnx";
    }

    /**
     * Reads every embedding variable; problems are recorded in {@code env} (call {@link
     * Env#validate()} after reading all settings), never thrown, so all are reported at once; the
     * defaults stand in for a bad value.
     */
    public static EmbeddingSettings from(Env env) {
        Provider provider = env.choice(PROVIDER, DEFAULT_PROVIDER, Provider.class);
        int batchSize = env.integer(BATCH_SIZE, DEFAULT_BATCH_SIZE);
        int threads = env.integer(ONNX_THREADS, DEFAULT_ONNX_THREADS);
        return env.build(
                () -> switch (provider) {
                    case ONNX -> onnx(env, batchSize, threads);
                    case PGML ->
                        new EmbeddingSettings(
                                provider,
                                env.string(MODEL, DEFAULT_PGML_MODEL),
                                env.integer(DIMENSIONS, DEFAULT_PGML_DIMENSIONS),
                                env.integer(MAX_TOKENS, DEFAULT_PGML_MAX_TOKENS),
                                batchSize,
                                threads,
                                null);
                    case OPENAI -> openai(env, batchSize, threads);
                },
                EmbeddingSettings::defaults);
    }

    /** The offline default: {@link ModelCatalog#DEFAULT_MODEL} with ONNX Runtime. */
    public static EmbeddingSettings defaults() {
        EmbeddingModelSpec spec = ModelCatalog.defaultModel();
        return new EmbeddingSettings(
                DEFAULT_PROVIDER,
                spec.name(),
                spec.dimensions(),
                spec.maxTokens(),
                DEFAULT_BATCH_SIZE,
                DEFAULT_ONNX_THREADS,
                null);
    }

    private static EmbeddingSettings onnx(Env env, int batchSize, int threads) {
        String name = env.string(MODEL, ModelCatalog.DEFAULT_MODEL);
        EmbeddingModelSpec spec =
                ModelCatalog.names().contains(name) ? ModelCatalog.get(name) : ModelCatalog.defaultModel();
        return new EmbeddingSettings(
                Provider.ONNX,
                name,
                env.integer(DIMENSIONS, spec.dimensions()),
                env.integer(MAX_TOKENS, spec.maxTokens()),
                batchSize,
                threads,
                null);
    }

    private static EmbeddingSettings openai(Env env, int batchSize, int threads) {
        URI base = null;
        String raw = env.required(OPENAI_BASE_URL, OPENAI_BASE_URL_HINT);
        if (raw != null) {
            try {
                base = new URI(raw);
            } catch (URISyntaxException e) {
                env.problem(Problems.quoted(OPENAI_BASE_URL, DatabaseUrl.mask(raw)) + " is not a URL");
            }
        }
        double rps = OpenAiSettings.DEFAULT_REQUESTS_PER_SECOND;
        String rawRps = env.raw(OPENAI_RATE_LIMIT).orElse(null);
        if (rawRps != null) {
            try {
                rps = Double.parseDouble(rawRps);
            } catch (NumberFormatException e) {
                env.problem(Problems.quoted(OPENAI_RATE_LIMIT, rawRps) + " " + OpenAiSettings.RATE_LIMIT_RULE);
            }
        }
        String model = env.string(OPENAI_MODEL, OpenAiSettings.DEFAULT_MODEL);
        int dimensions = env.integer(DIMENSIONS, OpenAiSettings.DEFAULT_DIMENSIONS);
        int maxTokens = env.integer(MAX_TOKENS, OpenAiSettings.DEFAULT_MAX_TOKENS);
        Secret key = env.secret(OPENAI_API_KEY).orElse(Secret.of("")); // or RAGLINE_OPENAI_API_KEY_FILE
        int maxAttempts = env.integer(OPENAI_MAX_ATTEMPTS, OpenAiSettings.DEFAULT_MAX_ATTEMPTS);
        Duration timeout = env.duration(OPENAI_TIMEOUT, OpenAiSettings.DEFAULT_REQUEST_TIMEOUT);
        // Refused values throw here and end in from()'s Env.build, like this record's own.
        OpenAiSettings openai = new OpenAiSettings(
                base,
                key,
                model,
                dimensions,
                maxTokens,
                batchSize,
                rps,
                maxAttempts,
                OpenAiSettings.DEFAULT_INITIAL_BACKOFF,
                OpenAiSettings.DEFAULT_MAX_BACKOFF,
                timeout);
        return new EmbeddingSettings(Provider.OPENAI, model, dimensions, maxTokens, batchSize, threads, openai);
    }
}
