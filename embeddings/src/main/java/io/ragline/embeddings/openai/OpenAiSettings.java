package io.ragline.embeddings.openai;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Problems;
import io.ragline.core.config.Secret;
import io.ragline.embeddings.EmbeddingSettings;
import java.net.URI;
import java.time.Duration;

/**
 * Where and how to call an OpenAI-compatible {@code POST /v1/embeddings} endpoint (OpenAI, Ollama,
 * vLLM, Hugging Face TEI).
 *
 * @param baseUrl scheme, host, port and optional path prefix; {@code /v1/embeddings} is appended
 * @param apiKey sent as {@code Authorization: Bearer}; empty for servers that want none
 * @param model the {@code model} field of each request
 * @param dimensions the length every returned vector must have
 * @param maxTokens the model's window (documentation for the chunker; the server truncates or refuses)
 * @param batchSize texts per request
 * @param requestsPerSecond client-side rate limit
 * @param maxAttempts attempts per request, the first included, before a 429/5xx/timeout is given up
 * @param initialBackoff first wait after a failure without {@code Retry-After}; doubles each time
 * @param maxBackoff the longest wait, also the cap on a server's {@code Retry-After}
 * @param requestTimeout bound on one HTTP exchange
 */
public record OpenAiSettings(
        URI baseUrl,
        Secret apiKey,
        String model,
        int dimensions,
        int maxTokens,
        int batchSize,
        double requestsPerSecond,
        int maxAttempts,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration requestTimeout) {

    public static final String DEFAULT_MODEL = "text-embedding-3-small";
    public static final int DEFAULT_DIMENSIONS = 1536;
    public static final int DEFAULT_MAX_TOKENS = 8191;
    public static final double DEFAULT_REQUESTS_PER_SECOND = 10;
    public static final int DEFAULT_MAX_ATTEMPTS = 5;
    public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(500);
    public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(30);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);

    public static final String RATE_LIMIT_RULE = "must be a positive number of requests per second";

    /**
     * Every rule of every field; each problem names its variable ({@code RAGLINE_OPENAI_*},
     * {@code RAGLINE_EMBEDDING_*}; the backoffs have none), never the key, and the URL's
     * user information masked.
     */
    public OpenAiSettings {
        Problems p = new Problems();
        if (p.present(EmbeddingSettings.OPENAI_BASE_URL, baseUrl, EmbeddingSettings.OPENAI_BASE_URL_HINT)) {
            p.check(
                    ("http".equals(baseUrl.getScheme()) || "https".equals(baseUrl.getScheme()))
                            && baseUrl.getHost() != null,
                    Problems.quoted(EmbeddingSettings.OPENAI_BASE_URL, DatabaseUrl.mask(baseUrl.toString()))
                            + " must be an http or https URL");
        }
        p.present(EmbeddingSettings.OPENAI_API_KEY, apiKey);
        p.check(model != null && !model.isBlank(), EmbeddingSettings.OPENAI_MODEL + " must not be empty");
        EmbeddingSettings.sizeRules(p, dimensions, maxTokens, batchSize);
        p.check(
                requestsPerSecond > 0 && !Double.isInfinite(requestsPerSecond),
                Problems.quoted(EmbeddingSettings.OPENAI_RATE_LIMIT, requestsPerSecond) + " " + RATE_LIMIT_RULE);
        p.between(EmbeddingSettings.OPENAI_MAX_ATTEMPTS, maxAttempts, 1, 100);
        p.check(
                initialBackoff != null && !initialBackoff.isZero() && !initialBackoff.isNegative(),
                "initialBackoff (" + initialBackoff + ") must be longer than 0");
        p.check(
                maxBackoff != null && initialBackoff != null && maxBackoff.compareTo(initialBackoff) >= 0,
                "maxBackoff (" + maxBackoff + ") must not be below initialBackoff (" + initialBackoff + ")");
        p.positive(EmbeddingSettings.OPENAI_TIMEOUT, requestTimeout);
        p.throwIfAny();
    }

    /** Defaults for everything but the endpoint, key and model. */
    public static OpenAiSettings of(URI baseUrl, Secret apiKey, String model, int dimensions) {
        return new OpenAiSettings(
                baseUrl,
                apiKey,
                model,
                dimensions,
                DEFAULT_MAX_TOKENS,
                EmbeddingSettings.DEFAULT_BATCH_SIZE,
                DEFAULT_REQUESTS_PER_SECOND,
                DEFAULT_MAX_ATTEMPTS,
                DEFAULT_INITIAL_BACKOFF,
                DEFAULT_MAX_BACKOFF,
                DEFAULT_REQUEST_TIMEOUT);
    }

    /** {@code {baseUrl}/v1/embeddings}, tolerating a trailing slash or a base that already ends in /v1. */
    public URI endpoint() {
        String base = baseUrl.toString().replaceAll("/+$", "");
        return URI.create(base.endsWith("/v1") ? base + "/embeddings" : base + "/v1/embeddings");
    }
}
