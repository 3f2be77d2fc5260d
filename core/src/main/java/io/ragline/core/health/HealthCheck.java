package io.ragline.core.health;

import java.util.Optional;

/**
 * One readiness condition; {@link #problem()} is empty when it holds. An {@linkplain #advisory
 * advisory} one is reported beside readiness (the {@code warnings} of {@code /health/ready}) and never
 * makes the process unready: a problem an operator should see that takes nothing served away.
 */
public interface HealthCheck {
    String name();

    Optional<String> problem();

    /** Whether a problem makes the process unready ({@code true}) or is only reported. */
    default boolean holdsReadiness() {
        return true;
    }

    static HealthCheck of(String name, java.util.function.Supplier<Optional<String>> probe) {
        return of(name, probe, true);
    }

    /** A check whose problem is reported as a warning and leaves the process ready. */
    static HealthCheck advisory(String name, java.util.function.Supplier<Optional<String>> probe) {
        return of(name, probe, false);
    }

    private static HealthCheck of(
            String name, java.util.function.Supplier<Optional<String>> probe, boolean holdsReadiness) {
        return new HealthCheck() {
            @Override
            public boolean holdsReadiness() {
                return holdsReadiness;
            }

            @Override
            public String name() {
                return name;
            }

            @Override
            public Optional<String> problem() {
                try {
                    return probe.get();
                } catch (RuntimeException e) {
                    return Optional.of(e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            }
        };
    }
}
