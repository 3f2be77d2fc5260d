package io.ragline.core.config;

import java.util.Objects;

/** A value that must never reach a log: its {@link #toString()} is {@code <masked>}. */
public final class Secret {
    public static final String MASK = "<masked>";
    private final String value;

    private Secret(String value) {
        this.value = Objects.requireNonNull(value);
    }

    public static Secret of(String value) {
        return new Secret(value);
    }

    /** The value itself, for the one place that needs it (a driver, an HMAC key). */
    public String reveal() {
        return value;
    }

    public boolean isEmpty() {
        return value.isEmpty();
    }

    @Override
    public String toString() {
        return MASK;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret s && s.value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }
}
