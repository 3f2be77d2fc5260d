package io.ragline.core.health;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The process is ready when every check holds; the report names each check and its problem. */
public final class Readiness {
    private final List<HealthCheck> checks;

    public Readiness(List<HealthCheck> checks) {
        this.checks = List.copyOf(checks);
    }

    public record Report(boolean ready, Map<String, String> checks) {}

    public Report evaluate() {
        Map<String, String> results = new LinkedHashMap<>();
        boolean ready = true;
        for (HealthCheck c : checks) {
            Optional<String> problem = c.problem();
            results.put(c.name(), problem.orElse("ok"));
            ready &= problem.isEmpty();
        }
        return new Report(ready, results);
    }
}
