package io.ragline.console.deadletters;

import java.util.Map;

/**
 * Why a dead letter cannot be redriven or discarded: there is no such dead letter, it was dealt
 * with already, or the request breaks a rule (a replacement its topic's contract refuses). The
 * console answers 404, 409 and 422; the message names the dead letter, never its payload.
 */
public final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;

    /** What kind of refusal, in the order a request meets them. */
    public enum Kind {
        NOT_FOUND,
        CONFLICT,
        UNPROCESSABLE
    }

    private final Kind kind;
    private final transient Map<String, String> errors;

    private Refusal(Kind kind, String message, Map<String, String> errors) {
        super(message);
        this.kind = kind;
        this.errors = Map.copyOf(errors);
    }

    static Refusal notFound(String message) {
        return new Refusal(Kind.NOT_FOUND, message, Map.of());
    }

    static Refusal conflict(String message) {
        return new Refusal(Kind.CONFLICT, message, Map.of());
    }

    static Refusal unprocessable(String message, Map<String, String> errors) {
        return new Refusal(Kind.UNPROCESSABLE, message, errors);
    }

    public Kind kind() {
        return kind;
    }

    /** Field errors of an {@link Kind#UNPROCESSABLE} refusal, by field name. */
    public Map<String, String> errors() {
        return errors;
    }
}
