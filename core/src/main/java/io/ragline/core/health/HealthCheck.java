package io.ragline.core.health;

import java.util.Optional;

/** One readiness condition; {@link #problem()} is empty when it holds. */
public interface HealthCheck {
    String name();

    Optional<String> problem();

    static HealthCheck of(String name, java.util.function.Supplier<Optional<String>> probe) {
        return new HealthCheck() {
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
