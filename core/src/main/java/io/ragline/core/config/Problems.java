package io.ragline.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What a settings record's compact constructor finds wrong with its values, each problem naming
 * its variable in the form {@link Env} uses ({@code NAME='value' must ...}), all thrown at once by
 * {@link #throwIfAny()}. The constructor is the one home of a setting's rules: {@code from(Env)}
 * only parses, and {@link Env#build} turns what the constructor refuses into start-up problems.
 * Never pass a secret's value here: checks of a secret say what is wrong, not what it is.
 */
public final class Problems {
    private final List<String> found = new ArrayList<>();

    /** Records {@code message} (which must name the variable) unless {@code ok}. */
    public Problems check(boolean ok, String message) {
        if (!ok) {
            found.add(message);
        }
        return this;
    }

    /** {@code value} is set; {@code hint} says what to set it to. */
    public boolean present(String variable, Object value, String hint) {
        check(value != null, variable + " is not set" + (hint.isEmpty() ? "" : " (" + hint + ")"));
        return value != null;
    }

    public Problems present(String variable, Object value) {
        present(variable, value, "");
        return this;
    }

    public Problems between(String variable, int value, int min, int max) {
        return check(value >= min && value <= max, quoted(variable, value) + " must be between " + min + " and " + max);
    }

    public Problems matches(String variable, String value, Pattern pattern, String rule) {
        if (present(variable, value, "")) {
            check(pattern.matcher(value).matches(), quoted(variable, value) + " " + rule);
        }
        return this;
    }

    /** At least {@code min}; {@code why}, when not empty, follows in parentheses. */
    public Problems atLeast(String variable, Duration value, Duration min, String why) {
        if (present(variable, value, "")) {
            check(
                    value.compareTo(min) >= 0,
                    quoted(variable, text(value)) + " must be at least " + text(min)
                            + (why.isEmpty() ? "" : " (" + why + ")"));
        }
        return this;
    }

    public Problems atLeast(String variable, Duration value, Duration min) {
        return atLeast(variable, value, min, "");
    }

    /** Longer than zero, and short enough for an {@code int} of milliseconds (about 24 days). */
    public Problems positive(String variable, Duration value) {
        return within(variable, value, Duration.ofMillis(1));
    }

    /** Zero or longer, and short enough for an {@code int} of milliseconds (about 24 days). */
    public Problems notNegative(String variable, Duration value) {
        return within(variable, value, Duration.ZERO);
    }

    private Problems within(String variable, Duration value, Duration min) {
        if (present(variable, value, "")) {
            check(
                    value.compareTo(min) >= 0 && value.toMillis() <= Integer.MAX_VALUE,
                    quoted(variable, text(value)) + " must be " + (min.isZero() ? "0 or longer" : "longer than 0")
                            + " and at most 24 days");
        }
        return this;
    }

    /** Throws every problem found in one {@link ConfigException}. */
    public void throwIfAny() {
        if (!found.isEmpty()) {
            throw new ConfigException(found);
        }
    }

    /** {@code NAME='value'}, as {@link Env} quotes a bad value. */
    public static String quoted(String variable, Object value) {
        return variable + "='" + value + "'";
    }

    /** A duration as an operator writes it: {@code 500ms}, {@code 10s}, {@code 5m}, {@code 2h}. */
    public static String text(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        if (d.toNanosPart() % 1_000_000 != 0 || d.isNegative()) {
            return d.toString();
        }
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }
}
