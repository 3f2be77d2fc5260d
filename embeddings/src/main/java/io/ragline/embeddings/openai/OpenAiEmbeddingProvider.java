package io.ragline.embeddings.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.exception.AcquirePermissionCancelledException;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RequestNotPermitted;
import io.ragline.core.resilience.Backoff;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import io.ragline.embeddings.EmbeddingSettings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeddings from an OpenAI-compatible HTTP endpoint ({@code POST {base}/v1/embeddings} with
 * {@code {"model", "input": [...]}}, answer {@code data[].embedding} by {@code index}).
 *
 * <p>Texts go in requests of {@code batchSize}, paced by a client-side rate limiter. A 429 or 5xx
 * or a network failure is retried up to {@code maxAttempts}, waiting what {@code Retry-After} says
 * or else an exponential backoff with jitter; a circuit breaker stops calling a server that keeps
 * failing. Any other 4xx fails at once. The API key is sent as a bearer token and never logged.
 */
public final class OpenAiEmbeddingProvider implements EmbeddingProvider {
    private static final Logger log = LoggerFactory.getLogger(OpenAiEmbeddingProvider.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The most a request waits for the rate limit's permit; one that would wait longer is not sent. */
    static final Duration RATE_LIMIT_WAIT = Duration.ofMinutes(5);

    /** Trial calls the breaker admits when half-open; it waits for all their outcomes before it decides. */
    static final int HALF_OPEN_CALLS = 10;

    private final OpenAiSettings settings;
    private final HttpClient http;
    private final Sleeper sleeper;
    private final Clock clock;
    private final RateLimiter rateLimiter;
    private final CircuitBreaker breaker;
    private final URI endpoint;
    private final Backoff backoff;

    /** Waits between attempts; tests record the waits instead of sleeping through them. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    public OpenAiEmbeddingProvider(OpenAiSettings settings) {
        this(settings, d -> Thread.sleep(d.toMillis()), Clock.systemUTC());
    }

    public OpenAiEmbeddingProvider(OpenAiSettings settings, Sleeper sleeper, Clock clock) {
        this.settings = settings;
        this.sleeper = sleeper;
        this.clock = clock;
        this.endpoint = settings.endpoint();
        this.backoff = Backoff.of(settings.initialBackoff(), settings.maxBackoff()); // a bad pair fails here
        this.http = HttpClient.newBuilder()
                .connectTimeout(settings.requestTimeout())
                .version(HttpClient.Version.HTTP_1_1)
                .build();
        this.rateLimiter = RateLimiter.of("openai-embeddings", rateLimit(settings.requestsPerSecond()));
        this.breaker = CircuitBreaker.of(
                "openai-embeddings",
                CircuitBreakerConfig.custom()
                        .slidingWindowSize(10)
                        .minimumNumberOfCalls(5)
                        .failureRateThreshold(50)
                        .waitDurationInOpenState(Duration.ofSeconds(30))
                        .permittedNumberOfCallsInHalfOpenState(HALF_OPEN_CALLS)
                        .build());
    }

    /** {@code rps} requests a second as resilience4j's permits per refresh period. */
    static RateLimiterConfig rateLimit(double rps) {
        RateLimiterConfig.Builder b = RateLimiterConfig.custom().timeoutDuration(RATE_LIMIT_WAIT);
        if (rps >= 1) {
            return b.limitForPeriod((int) Math.round(rps))
                    .limitRefreshPeriod(Duration.ofSeconds(1))
                    .build();
        }
        return b.limitForPeriod(1)
                .limitRefreshPeriod(Duration.ofNanos((long) (1e9 / rps)))
                .build();
    }

    public CircuitBreaker.State circuitBreakerState() {
        return breaker.getState();
    }

    /** The breaker itself, for tests that move it between states by hand. */
    CircuitBreaker circuitBreaker() {
        return breaker;
    }

    /** Threads waiting now for the rate limit's permit. */
    int waitingForRateLimit() {
        return rateLimiter.getMetrics().getNumberOfWaitingThreads();
    }

    @Override
    public String model() {
        return settings.model();
    }

    @Override
    public int dimensions() {
        return settings.dimensions();
    }

    @Override
    public int maxTokens() {
        return settings.maxTokens();
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        List<float[]> out = new ArrayList<>(texts.size());
        for (int from = 0; from < texts.size(); from += settings.batchSize()) {
            out.addAll(request(texts.subList(from, Math.min(texts.size(), from + settings.batchSize()))));
        }
        return out;
    }

    @Override
    public float[] embedQuery(String text) {
        return embed(List.of(text)).get(0);
    }

    private List<float[]> request(List<String> inputs) {
        String body = body(inputs);
        for (int attempt = 1; ; attempt++) {
            Attempt result = attempt(body, inputs.size());
            int failures = attempt;
            if (result.vectors != null) {
                return result.vectors;
            }
            if (attempt >= settings.maxAttempts()) {
                throw new EmbeddingException(
                        "POST " + endpoint + " failed " + attempt + " times, last: " + result.problem, true);
            }
            Duration wait = result.retryAfter.map(this::capped).orElseGet(() -> backoff(failures));
            log.info(
                    "POST {} {}; attempt {} of {} in {} ms",
                    endpoint,
                    result.problem,
                    attempt + 1,
                    settings.maxAttempts(),
                    wait.toMillis());
            try {
                sleeper.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EmbeddingException("interrupted while waiting to retry " + endpoint, true, e);
            }
        }
    }

    private Duration capped(Duration d) {
        return d.compareTo(settings.maxBackoff()) > 0 ? settings.maxBackoff() : d;
    }

    /** The one {@link Backoff}: {@code initial * 2^(n-1)} with ±50 % jitter, at most {@code maxBackoff}. */
    private Duration backoff(int failures) {
        return backoff.wait(failures);
    }

    private String body(List<String> inputs) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", settings.model());
        ArrayNode input = body.putArray("input");
        inputs.forEach(input::add);
        return body.toString();
    }

    /** The outcome of one exchange: vectors, or why it may be retried. A permanent failure throws. */
    private record Attempt(List<float[]> vectors, String problem, Optional<Duration> retryAfter) {}

    /**
     * One exchange under a permission of the circuit breaker. Every way out of it returns that
     * permission: a response or a network failure is recorded (success or error), and anything
     * else (an interrupt or a refusal of the rate limiter, an interrupt of the exchange, a defect)
     * releases it. A permission kept would never come back: in {@code HALF_OPEN} the breaker admits
     * only {@link #HALF_OPEN_CALLS} calls and waits for their outcomes, so a few kept permissions
     * would refuse this model for good, whatever thread interrupted (a non-serving call abandoned by
     * the embedding-worker, a shutdown).
     */
    private Attempt attempt(String body, int expected) {
        if (!breaker.tryAcquirePermission()) {
            throw new EmbeddingException(
                    "circuit breaker for " + endpoint + " is open after repeated failures; not calling it", true);
        }
        BreakerPermission permission = new BreakerPermission();
        try {
            return exchange(body, expected, permission);
        } finally {
            permission.releaseUnlessRecorded();
        }
    }

    /** The breaker's permission of one attempt: recorded once, or else released. */
    private final class BreakerPermission {
        private boolean recorded;

        void success(long nanos) {
            recorded = true;
            breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
        }

        void error(long nanos, Throwable failure) {
            recorded = true;
            breaker.onError(nanos, TimeUnit.NANOSECONDS, failure);
        }

        void releaseUnlessRecorded() {
            if (!recorded) {
                breaker.releasePermission();
            }
        }
    }

    private Attempt exchange(String body, int expected, BreakerPermission permission) {
        waitForRateLimit();
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
                .timeout(settings.requestTimeout())
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (!settings.apiKey().isEmpty()) {
            request.header("Authorization", "Bearer " + settings.apiKey().reveal());
        }
        long start = System.nanoTime();
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            permission.error(System.nanoTime() - start, e);
            return retry(e.getClass().getSimpleName() + ": " + e.getMessage(), Optional.empty());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the permission is released, not recorded
            throw new EmbeddingException("interrupted while calling " + endpoint, true, e);
        }
        long took = System.nanoTime() - start;
        int status = response.statusCode();
        if (status == 429 || status >= 500) {
            permission.error(took, new EmbeddingException("HTTP " + status, true));
            return retry(
                    "answered " + status + errorMessage(response.body()),
                    RetryAfter.parse(
                            response.headers().firstValue("Retry-After").orElse(null), clock));
        }
        permission.success(took); // the server works, even if it refuses this request
        if (status != 200) {
            throw new EmbeddingException(
                    "POST " + endpoint + " answered " + status + errorMessage(response.body()) + " (model "
                            + settings.model() + "); not retried",
                    false,
                    status);
        }
        return new Attempt(parse(response.body(), expected), null, Optional.empty());
    }

    /**
     * Waits for the client-side rate limit's permit. Interrupted (the interrupt stays set), or
     * refused because the wait would pass {@link #RATE_LIMIT_WAIT} (resilience4j then waits that
     * long before it refuses), the request is not sent: a retryable failure, so a batch is retried
     * later, never failed for it.
     */
    private void waitForRateLimit() {
        try {
            RateLimiter.waitForPermission(rateLimiter);
        } catch (AcquirePermissionCancelledException e) {
            throw new EmbeddingException("interrupted while waiting for the rate limit of " + endpoint, true, e);
        } catch (RequestNotPermitted e) {
            throw new EmbeddingException(
                    "the rate limit of " + endpoint + " (" + EmbeddingSettings.OPENAI_RATE_LIMIT + ") would hold this"
                            + " request past " + RATE_LIMIT_WAIT.toMinutes() + " minutes; not sent",
                    true,
                    e);
        }
    }

    private Attempt retry(String problem, Optional<Duration> retryAfter) {
        return new Attempt(null, problem, retryAfter);
    }

    private List<float[]> parse(String body, int expected) {
        JsonNode data;
        try {
            data = JSON.readTree(body).path("data");
        } catch (IOException e) {
            throw new EmbeddingException("POST " + endpoint + " answered 200 with a body that is not JSON", false, e);
        }
        if (!data.isArray() || data.size() != expected) {
            throw new EmbeddingException(
                    "POST " + endpoint + " answered " + data.size() + " embeddings for " + expected + " inputs", false);
        }
        float[][] vectors = new float[expected][];
        for (JsonNode item : data) {
            int index = item.path("index").asInt(-1);
            JsonNode embedding = item.path("embedding");
            if (index < 0 || index >= expected || vectors[index] != null) {
                throw new EmbeddingException("POST " + endpoint + " answered a bad or repeated index " + index, false);
            }
            if (embedding.size() != settings.dimensions()) {
                throw new EmbeddingException(
                        "model " + settings.model() + " at " + endpoint + " returned " + embedding.size()
                                + " dimensions, expected " + settings.dimensions()
                                + " (RAGLINE_EMBEDDING_DIMENSIONS)",
                        false);
            }
            float[] v = new float[embedding.size()];
            for (int d = 0; d < v.length; d++) {
                v[d] = (float) embedding.get(d).asDouble();
            }
            vectors[index] = v;
        }
        return List.of(vectors);
    }

    /** ": message" from an OpenAI-style error body, or a short excerpt of any other body. */
    private static String errorMessage(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        try {
            JsonNode message = JSON.readTree(body).path("error").path("message");
            if (message.isTextual()) {
                return ": " + message.asText();
            }
        } catch (IOException notJson) {
            // fall through to the excerpt
        }
        String excerpt = body.strip();
        return ": " + (excerpt.length() > 200 ? excerpt.substring(0, 200) + "…" : excerpt);
    }

    @Override
    public void close() {
        // The JDK client's threads are daemons and its connections close when it is collected;
        // HttpClient.close() exists only from Java 21.
    }

    @Override
    public String toString() {
        return "OpenAiEmbeddingProvider[" + endpoint + ", model=" + settings.model() + ", key=" + settings.apiKey()
                + "]";
    }
}
