package io.ragline.embeddings;

/**
 * Embedding failed. {@link #retryable()} sorts it for the worker's failure policy: true when the
 * same request may succeed later (a rate limit, a 5xx, an open circuit breaker, a timeout), false
 * when it never will (a 4xx, wrong dimensions, a missing extension, a broken model).
 */
public class EmbeddingException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean retryable;

    public EmbeddingException(String message, boolean retryable) {
        super(message);
        this.retryable = retryable;
    }

    public EmbeddingException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}
