package io.ragline.embeddings;

import java.util.OptionalInt;

/**
 * Embedding failed. {@link #retryable()} sorts it for the worker's failure policy: true when the
 * same request may succeed later (a rate limit, a 5xx, an open circuit breaker, a timeout), false
 * when it never will (a 4xx, wrong dimensions, a missing extension, a broken model).
 */
public class EmbeddingException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean retryable;
    private final int httpStatus;

    public EmbeddingException(String message, boolean retryable) {
        this(message, retryable, 0);
    }

    /**
     * @param httpStatus the status an HTTP endpoint answered the call with, or 0 where the failure
     *     was not such an answer
     */
    public EmbeddingException(String message, boolean retryable, int httpStatus) {
        super(message);
        this.retryable = retryable;
        this.httpStatus = httpStatus;
    }

    public EmbeddingException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
        this.httpStatus = 0;
    }

    public boolean retryable() {
        return retryable;
    }

    /** The status an HTTP endpoint refused the call with, if the failure is that. */
    public OptionalInt httpStatus() {
        return httpStatus > 0 ? OptionalInt.of(httpStatus) : OptionalInt.empty();
    }
}
