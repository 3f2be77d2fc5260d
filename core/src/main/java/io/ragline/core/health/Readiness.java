package io.ragline.core.health;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The process is ready when every check holds; the report names each check and its problem, and
 * the problems of {@linkplain HealthCheck#advisory advisory} checks as warnings, which leave it ready.
 */
public final class Readiness {
    private final List<HealthCheck> checks;

    public Readiness(List<HealthCheck> checks) {
        this.checks = new CopyOnWriteArrayList<>(checks);
    }

    /** Adds a check a worker owns (a model still loading, say); it counts from the next probe. */
    public void add(HealthCheck check) {
        checks.add(check);
    }

    /** {@code checks}: each readiness check, "ok" or its problem; {@code warnings}: advisory problems only. */
    public record Report(boolean ready, Map<String, String> checks, Map<String, String> warnings) {}

    public Report evaluate() {
        Map<String, String> results = new LinkedHashMap<>();
        Map<String, String> warnings = new LinkedHashMap<>();
        boolean ready = true;
        for (HealthCheck c : checks) {
            Optional<String> problem = c.problem();
            if (!c.holdsReadiness()) {
                problem.ifPresent(p -> warnings.put(c.name(), p));
                continue;
            }
            results.put(c.name(), problem.orElse("ok"));
            ready &= problem.isEmpty();
        }
        return new Report(ready, results, warnings);
    }
}
