package io.ragline.core.health;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/** The process is ready when every check holds; the report names each check and its problem. */
public final class Readiness {
    private final List<HealthCheck> checks;

    public Readiness(List<HealthCheck> checks) {
        this.checks = new CopyOnWriteArrayList<>(checks);
    }

    /** Adds a check a worker owns (a model still loading, say); it counts from the next probe. */
    public void add(HealthCheck check) {
        checks.add(check);
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
