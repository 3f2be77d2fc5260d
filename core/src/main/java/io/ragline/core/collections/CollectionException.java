package io.ragline.core.collections;

import java.util.Map;

/**
 * A change to the collections the registry refuses, with why: the CLI turns it into an exit status
 * and a message, the HTTP API into 404, 409 or 422. Nothing was changed when it is thrown.
 */
public final class CollectionException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a change was refused. */
    public enum Reason {
        /** No collection (or document) with that name (or id). */
        NOT_FOUND,
        /** A collection of that name exists. */
        EXISTS,
        /** The values break a rule; {@link #fieldErrors()} names each field. */
        INVALID,
        /** The collection's (or document's) state does not allow it. */
        CONFLICT
    }

    private final Reason reason;
    private final transient Map<String, String> fieldErrors;

    private CollectionException(Reason reason, String message, Map<String, String> fieldErrors) {
        super(message, null, false, false);
        this.reason = reason;
        this.fieldErrors = Map.copyOf(fieldErrors);
    }

    public static CollectionException notFound(String message) {
        return new CollectionException(Reason.NOT_FOUND, message, Map.of());
    }

    public static CollectionException exists(String name) {
        return new CollectionException(Reason.EXISTS, "a collection named '" + name + "' exists", Map.of());
    }

    public static CollectionException conflict(String message) {
        return new CollectionException(Reason.CONFLICT, message, Map.of());
    }

    /** @param fieldErrors field (the JSON name: {@code chunk_size_tokens}) to what is wrong with it */
    public static CollectionException invalid(Map<String, String> fieldErrors) {
        return new CollectionException(
                Reason.INVALID,
                fieldErrors.entrySet().stream()
                        .map(e -> e.getKey() + ": " + e.getValue())
                        .sorted()
                        .reduce((a, b) -> a + "; " + b)
                        .orElse("invalid"),
                fieldErrors);
    }

    public Reason reason() {
        return reason;
    }

    /** For {@link Reason#INVALID}: each field refused, with why (in the order given); otherwise empty. */
    public Map<String, String> fieldErrors() {
        return fieldErrors;
    }
}
