package io.ragline.embedding;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models of the start-up load that no serving generation of an active collection used then (only
 * a migration's building generation, or a kept one), and their problems. While no serving generation
 * uses such a model (the generation states read now: {@link ServingModels}), it does not hold the
 * worker's readiness: a problem of it is logged at WARN naming the generations that use it, named
 * by {@link #warnings} (an advisory check: the {@code warnings} of {@code /health/ready}) and counted
 * by {@link #problems} (the gauge {@code ragline_embedding_nonserving_models_failed}). Once a switch
 * makes one of its generations serving, its problem is the worker's readiness's ({@link
 * #servingProblems}): this worker would fail every document of that collection.
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
        String before;
        synchronized (problems) {
            before = problem == null ? problems.remove(key) : problems.put(key, problem);
        }
        if (problem != null && !problem.equals(before)) {
            log.warn(
                    "{}: {}; this embedding-worker stays ready and embeds with the serving models, the vectors of"
                            + " that generation are owed until its model runs (the migration's sweep asks again)",
                    uses.get(key),
                    problem);
        }
    }

    /**
     * The warnings of the advisory check {@code nonserving-embedding-models} ({@link
     * ProviderRegistry#nonServing}): each model with a problem that no serving generation uses now
     * ({@code servingNow}), named with the generations that use it.
     */
    List<String> warnings(Set<String> servingNow) {
        List<String> out = new ArrayList<>();
        problemsNow(servingNow, false).forEach((key, p) -> out.add(uses.get(key) + ": " + p));
        return out;
    }

    /**
     * The problems of the models a serving generation uses now ({@code servingNow}), a switch or a
     * rollback having made one of their generations serve: these hold readiness.
     */
    List<String> servingProblems(Set<String> servingNow) {
        return problemsNow(servingNow, true).values().stream()
                .map(p -> p + " (a generation of this model serves now)")
                .toList();
    }

    /** How many of these models failed to load or cannot be reached yet and serve no generation now. */
    int problems(Set<String> servingNow) {
        return problemsNow(servingNow, false).size();
    }

    private Map<String, String> problemsNow(Set<String> servingNow, boolean serving) {
        Map<String, String> out = new LinkedHashMap<>();
        synchronized (problems) {
            problems.forEach((key, p) -> {
                if (servingNow.contains(key) == serving) {
                    out.put(key, p);
                }
            });
        }
        return out;
    }
}
