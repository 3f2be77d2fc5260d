package io.ragline.embedding;

import io.ragline.core.health.HealthCheck;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models of the start-up load that no serving generation of an active collection uses (only a
 * migration's building generation, or a kept one), and their problems. Such a model never holds the
 * worker's readiness: a problem of it is logged at WARN naming the generations that use it, named
 * by {@link #check} (an advisory check: the {@code warnings} of {@code /health/ready}) and counted
 * by {@link #problems} (the gauge {@code ragline_embedding_nonserving_models_failed}).
 */
final class NonServingModels {
    private static final Logger log = LoggerFactory.getLogger(NonServingModels.class);

    /** Model key to the generations using it: {@code collection 'X' generation 2 (building)}. */
    private final Map<String, String> uses = new ConcurrentHashMap<>();

    /** Problems by model key; guarded by itself. */
    private final Map<String, String> problems = new LinkedHashMap<>();

    /** Records that {@code generation} (a description) uses model {@code key}. */
    void use(String key, String generation) {
        uses.merge(key, generation, (a, b) -> a + ", " + b);
    }

    /** Forgets the models a serving generation uses too: those hold readiness. */
    void servingUse(Set<String> keys) {
        uses.keySet().removeAll(keys);
    }

    boolean contains(String key) {
        return uses.containsKey(key);
    }

    /** Records (or, with {@code null}, clears) the problem of model {@code key}; a new problem is logged at WARN. */
    void problem(String key, String problem) {
        String generations = uses.get(key);
        String entry = problem == null ? null : generations + ": " + problem;
        String before;
        synchronized (problems) {
            before = entry == null ? problems.remove(key) : problems.put(key, entry);
        }
        if (entry != null && !entry.equals(before)) {
            log.warn(
                    "{}; this embedding-worker stays ready and embeds with the serving models, the vectors of that"
                            + " generation are owed until its model runs (the migration's sweep asks again)",
                    entry);
        }
    }

    /** The advisory check {@code nonserving-embedding-models}: each model with a problem; never unready. */
    HealthCheck check() {
        return HealthCheck.advisory("nonserving-embedding-models", () -> {
            synchronized (problems) {
                return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems.values()));
            }
        });
    }

    /** How many of these models failed to load or cannot be reached yet. */
    int problems() {
        synchronized (problems) {
            return problems.size();
        }
    }
}
