package io.ragline.embedding;

import io.ragline.embeddings.EmbeddingException;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Whose fault a failed {@link io.ragline.embeddings.EmbeddingProvider#embed} call is, which decides
 * what the worker does: retry the batch, or mark a document {@code failed} (and nothing asks for it
 * again).
 *
 * <p>The openai provider retries 429 and 5xx itself and then fails retryable; any other status it
 * fails non-retryable, with the status in {@link EmbeddingException#httpStatus()}. Of those, only
 * 400, 413 and 422 say the input is what the server refuses (too long, malformed, too large); 401,
 * 403, 404 and every other status say the server refuses this worker (its key, URL or model),
 * which is configuration and would refuse every document alike.
 */
public enum ProviderFailure {
    /** A retry may succeed (429, 5xx, a timeout, an open circuit breaker): retry the batch. */
    UNAVAILABLE,
    /** The endpoint refuses this worker (401, 403, 404, another 3xx/4xx): configuration, retry the batch. */
    MISCONFIGURED,
    /** The model refuses these inputs (400, 413, 422, an ONNX run that failed, a malformed answer). */
    INPUT_REFUSED;

    /** The statuses by which an OpenAI-compatible server says the input itself is refused. */
    static final Set<Integer> INPUT_STATUSES = Set.of(400, 413, 422);

    public static ProviderFailure of(EmbeddingException e) {
        if (e.retryable()) {
            return UNAVAILABLE;
        }
        OptionalInt status = httpStatus(e);
        return status.isPresent() && !INPUT_STATUSES.contains(status.getAsInt()) ? MISCONFIGURED : INPUT_REFUSED;
    }

    /** The HTTP status an endpoint refused the call with (not retried by the provider), if it was that. */
    public static OptionalInt httpStatus(EmbeddingException e) {
        return e.httpStatus();
    }
}
