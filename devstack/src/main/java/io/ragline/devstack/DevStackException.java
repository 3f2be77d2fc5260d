package io.ragline.devstack;

/** A development service could not be provided; the message says what to do about it. */
public final class DevStackException extends RuntimeException {
    public DevStackException(String message) {
        super(message);
    }

    public DevStackException(String message, Throwable cause) {
        super(message, cause);
    }
}
