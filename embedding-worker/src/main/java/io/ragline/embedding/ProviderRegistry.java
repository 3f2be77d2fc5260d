package io.ragline.embedding;

import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.collections.Generation;
import io.ragline.core.collections.GenerationState;
import io.ragline.core.health.HealthCheck;
import io.ragline.core.resilience.Backoff;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import io.ragline.embeddings.EmbeddingSettings;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider of each collection (its {@code embedding_provider} and {@code embedding_model}),
 * one per (provider, model, dimensions) for the whole process: an ONNX session is large and uses
 * every core, so collections that share a model share it. {@code openai} collections use the
 * endpoint, key and limits of the process's {@code RAGLINE_OPENAI_*} settings with their own model
 * and dimensions; {@code pgml} collections call {@code pgml.embed} in the worker's database.
 * Closing the registry closes them all.
 *
 * <p>{@link #loadAtStart} loads, in the background, the model of every embedding generation of
 * every collection that exists (a migration's building one and a kept one too) and checks its
 * dimensions with one probe text; {@link #readiness} reports a problem (so {@code
 * /health/ready} answers 503) while a serving model loads, and names each serving model that
 * failed to load or gives other dimensions than its collection's. A model only building or kept
 * generations use (non-serving) does not hold readiness while no serving generation uses it: the
 * serving path must not leave the load balancer for a migration's model. Which models serve follows
 * the generation states, both ways ({@link ServingModels}, read at most every 2 s, never waited on
 * long): once a switch makes such a model's generation serving, its problem makes the worker unready;
 * once a switch or a rollback leaves a failed serving model's generations kept, its problem is a
 * warning. Its problem is logged at WARN naming the collection and
 * generation, named by {@link #nonServing} (the {@code warnings} of {@code /health/ready}) and
 * counted by {@link #nonServingProblems} (a gauge); its generation's vectors are owed meanwhile
 * ({@code EmbeddingWriter}). A model this worker could not reach yet (a retryable failure) is tried
 * again with backoff. A collection created later gets its model on first use ({@link #apply}); a
 * first use while the model loads waits for it.
 */
public final class ProviderRegistry implements Function<Collection, EmbeddingProvider>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProviderRegistry.class);

    /** The text embedded once at start-up to check a model's dimensions. */
    static final String PROBE = "Ragline checks the dimensions of this model.";

    /** The status of a collection that takes documents (the others load their model on first use). */
    private static final String ACTIVE = ServingModels.ACTIVE;

    /** The name of the start-up loader's thread, as readiness names it if it dies. */
    public static final String LOADER = "embedding-model-loader";

    /** Waits between attempts to load a model that could not be reached (jittered, doubling to a minute). */
    private static final Backoff RETRY = Backoff.of(Duration.ofSeconds(1), Duration.ofMinutes(1));

    private final EmbeddingSettings settings;
    private final DataSource dataSource;
    private final Map<String, CompletableFuture<EmbeddingProvider>> providers = new ConcurrentHashMap<>();
    /** Models of the start-up load not loaded: the model's name, and what is wrong; guarded by itself. */
    private final Map<String, String> problems = new LinkedHashMap<>();

    /** The models of the start-up load that no serving generation of an active collection uses. */
    private final NonServingModels nonServingOnly = new NonServingModels();

    /** The models the serving generations of the active collections use now (read again every 2 s at most). */
    private final ServingModels servingNow;

    private volatile Thread loader;
    private volatile boolean closed;

    public ProviderRegistry(EmbeddingSettings settings, DataSource dataSource) {
        this.settings = settings;
        this.dataSource = dataSource;
        this.servingNow = new ServingModels(dataSource, ProviderRegistry::key);
    }

    @Override
    public EmbeddingProvider apply(Collection collection) {
        String key = key(collection);
        CompletableFuture<EmbeddingProvider> existing = providers.get(key);
        if (existing == null) {
            CompletableFuture<EmbeddingProvider> mine = new CompletableFuture<>();
            existing = providers.putIfAbsent(key, mine);
            if (existing == null) {
                try {
                    EmbeddingProvider made = EmbeddingProviders.create(settings, dataSource, collection);
                    mine.complete(made);
                    if (closed) {
                        made.close();
                    }
                    return made;
                } catch (RuntimeException | Error e) {
                    // An Error too: a future never completed would block every later use for ever.
                    providers.remove(key, mine); // the next use tries again
                    mine.completeExceptionally(e);
                    throw e;
                }
            }
        }
        try {
            return existing.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddingException("interrupted while model " + key + " loads", true, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /**
     * The readiness check: a problem while a serving model of the start-up load is loading or failed
     * to load, or while a model that was not serving then, and failed, serves a generation now. Which
     * models serve is read now ({@link ServingModels}, never waiting long on the database): a model
     * of the start-up load that no generation serves any more (a switch or a rollback left it kept)
     * is a warning of {@link #nonServing} instead; until a first read answers, the start-up's states
     * stand.
     */
    public HealthCheck readiness() {
        return HealthCheck.of("embedding-models", () -> {
            ServingModels.Answer now = servingNow.now();
            List<String> all = servingAtStartProblems(now, true);
            all.addAll(nonServingOnly.servingProblems(now.known()));
            return all.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", all));
        });
    }

    /**
     * The advisory check of the models no serving generation uses now (a building or kept
     * generation's): each that failed to load or cannot be reached yet, with the generations that use
     * it; and, when the generation states could not be read, why (the last states read stand). Never
     * unready.
     */
    public HealthCheck nonServing() {
        return HealthCheck.advisory("nonserving-embedding-models", () -> {
            ServingModels.Answer now = servingNow.now();
            List<String> out = new ArrayList<>(nonServingOnly.warnings(now.known()));
            servingAtStartProblems(now, false).forEach(p -> out.add(p + " (no generation of this model serves now)"));
            if (now.failure() != null) {
                out.add(now.failure() + "; the models' problems are judged by "
                        + (now.keys() == null
                                ? "the start-up's generation states"
                                : "the generation states read last"));
            }
            return out.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", out));
        });
    }

    /**
     * The problems of the start-up load's serving models whose model serves now ({@code serving}) or
     * serves no generation now (not {@code serving}); before any read, every one serves. The
     * listing's own problem holds readiness either way.
     */
    private List<String> servingAtStartProblems(ServingModels.Answer now, boolean serving) {
        List<String> out = new ArrayList<>();
        synchronized (problems) {
            problems.forEach((key, problem) -> {
                if (key.isEmpty() ? serving : now.serves(key, true) == serving) {
                    out.add(problem);
                }
            });
        }
        return out;
    }

    /**
     * Reports that the writer cannot create the model of {@code generation}, one that was not
     * serving (a migration begun after the start-up load, say): its endpoint not configured on this
     * replica, its model not in this build. Reported as the start-up load reports its non-serving
     * models, until a restart with the configuration mended; a serving model's problem is not.
     */
    public void nonServingUncreatable(Collection generation, String problem) {
        String key = key(generation);
        synchronized (problems) {
            if (problems.containsKey(key)) {
                return; // a serving model's problem: readiness names it
            }
        }
        if (!nonServingOnly.contains(key)) {
            nonServingOnly.use(
                    key,
                    "collection '" + generation.name() + "' generation " + generation.generation() + " (not serving)");
        }
        nonServingOnly.problem(key, "model " + key + " cannot run here: " + problem);
    }

    /**
     * How many models no serving generation uses now failed to load or cannot be reached yet (the
     * gauge of {@link #nonServing}); a scrape never waits on the database for it.
     */
    public int nonServingProblems() {
        ServingModels.Answer now = servingNow.latest();
        return nonServingOnly.problems(now.known())
                + servingAtStartProblems(now, false).size();
    }

    /**
     * Starts loading, on a thread of its own, the model of every collection that exists now; until
     * each is loaded and its dimensions checked, {@link #readiness} names it. Once every model was
     * tried once (loaded, refused for good, or not reachable yet), the loader runs {@code
     * afterFirstAttempts} on its thread: the embedding-worker subscribes its consumer there, so
     * partitions it is given (a restart under a static membership gets them back at once) are
     * embedded at once, not after the model's load. Models not reachable yet are then retried.
     * The loader ends when every model is loaded or refused; if it dies instead (an {@code Error},
     * or {@code afterFirstAttempts} failing), {@code onDeath} hears of it (the runtime's fatal
     * path: readiness names it and the process stops).
     */
    public void loadAtStart(java.util.function.Consumer<Throwable> onDeath, Runnable afterFirstAttempts) {
        synchronized (problems) {
            problems.put("", "listing the collections to load their models");
        }
        Thread t = new Thread(
                () -> {
                    try {
                        loadAll(afterFirstAttempts);
                    } catch (Throwable e) {
                        onDeath.accept(e);
                    }
                },
                LOADER);
        t.setDaemon(true);
        loader = t;
        t.start();
    }

    private void loadAll(Runnable afterFirstAttempts) {
        try {
            List<Collection> collections = null;
            for (int attempt = 1; collections == null; attempt++) {
                try (Connection c = dataSource.getConnection()) {
                    collections = everyGeneration(c);
                } catch (java.sql.SQLException e) {
                    problem("", "cannot list the collections to load their models: " + e.getMessage());
                    Thread.sleep(RETRY.wait(attempt).toMillis());
                }
            }
            Map<String, Collection> byModel = new LinkedHashMap<>();
            // Only collections that take documents now: a paused, failed or deleting collection's
            // model must not hold the worker's readiness (it loads on first use, if ever).
            collections.stream().filter(c -> ACTIVE.equals(c.status())).forEach(c -> byModel.putIfAbsent(key(c), c));
            synchronized (problems) {
                problems.remove("");
                byModel.keySet().stream()
                        .filter(key -> !nonServingOnly.contains(key))
                        .forEach(key -> problems.put(key, "model " + key + " is loading"));
            }
            Map<String, Collection> unreachable = new LinkedHashMap<>();
            for (Map.Entry<String, Collection> e : byModel.entrySet()) {
                if (!attempt(e.getKey(), e.getValue(), 1)) {
                    unreachable.put(e.getKey(), e.getValue());
                }
            }
            afterFirstAttempts.run();
            for (Map.Entry<String, Collection> e : unreachable.entrySet()) {
                load(e.getKey(), e.getValue());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closing
        } catch (RuntimeException | Error e) {
            problem("", "loading the models stopped: " + e);
            throw e;
        }
    }

    /**
     * Every collection as each of its generations embeds it: the embedding-worker writes the
     * vectors of every generation (a migration's building one, a kept one), so each model loads at
     * start-up. The models no serving generation of an active collection uses go to {@code
     * nonServingOnly}: one of them that cannot load is reported, not named in readiness (the serving
     * models hold the worker; a migration's or a rollback's model does not: its vectors are owed,
     * the migration waits for them, and a rollback refuses a kept generation that lacks vectors).
     */
    private List<Collection> everyGeneration(Connection c) throws java.sql.SQLException {
        Map<Integer, List<Generation>> byCollection = new LinkedHashMap<>();
        Generation.all(c)
                .forEach(g -> byCollection
                        .computeIfAbsent(g.collectionId(), k -> new java.util.ArrayList<>())
                        .add(g));
        List<Collection> out = new java.util.ArrayList<>();
        Set<String> needed = new java.util.HashSet<>();
        for (Collection k : CollectionCatalog.all(c)) { // by name, then generation
            for (Generation g : byCollection.getOrDefault(k.id(), List.of())) {
                Collection as = k.as(g);
                out.add(as);
                if (g.state() != GenerationState.SERVING) {
                    nonServingOnly.use(
                            key(as),
                            "collection '" + k.name() + "' generation " + g.number() + " ("
                                    + g.state().stored() + ")");
                } else if (ACTIVE.equals(k.status())) {
                    needed.add(key(as));
                }
            }
        }
        nonServingOnly.servingUse(needed);
        return out;
    }

    /** Loads the model of {@code c} again and again (from the second attempt) while it cannot be reached. */
    private void load(String key, Collection c) throws InterruptedException {
        for (int attempt = 2; !closed; attempt++) {
            Thread.sleep(RETRY.wait(attempt - 1).toMillis());
            if (attempt(key, c, attempt)) {
                return;
            }
        }
    }

    /**
     * One attempt at loading the model of {@code c} and checking its dimensions: true when done
     * (loaded, or refused for good and named in readiness), false when it cannot be reached yet.
     */
    private boolean attempt(String key, Collection c, int attempt) {
        long start = System.nanoTime();
        try {
            EmbeddingProvider provider = apply(c);
            int got = provider.embed(List.of(PROBE)).get(0).length;
            if (got != c.dimensions()) {
                problem(
                        key,
                        "model " + key + " gives " + got + " dimensions, collection '" + c.name() + "' has "
                                + c.dimensions());
                return true;
            }
            log.info(
                    "model {} loaded for collection '{}' and {} dimensions checked in {} ms",
                    key,
                    c.name(),
                    got,
                    (System.nanoTime() - start) / 1_000_000);
            problem(key, null);
            return true;
        } catch (RuntimeException e) {
            if (e instanceof EmbeddingException ee && ee.retryable()) {
                problem(key, "model " + key + " cannot be reached yet (attempt " + attempt + "): " + e.getMessage());
                return false;
            }
            // Refused for good (a bad model, a failed ONNX session): named in readiness, and
            // the loader goes on to the next model instead of dying.
            problem(key, "model " + key + " failed to load: " + e.getMessage());
            return true;
        }
    }

    private void problem(String key, String problem) {
        if (nonServingOnly.contains(key)) { // a building or kept generation's model: reported, never holding readiness
            nonServingOnly.problem(key, problem);
            return;
        }
        if (problem != null && !key.isEmpty()) {
            log.warn("{}", problem);
        }
        synchronized (problems) {
            if (problem == null) {
                problems.remove(key);
            } else {
                problems.put(key, problem);
            }
        }
    }

    static String key(Collection c) {
        return c.provider() + "/" + c.model() + "/" + c.dimensions();
    }

    @Override
    public void close() {
        closed = true;
        servingNow.close();
        Thread t = loader;
        if (t != null) {
            t.interrupt();
        }
        providers.values().forEach(f -> {
            if (f.isDone() && !f.isCompletedExceptionally()) {
                f.join().close();
            }
        });
        providers.clear();
    }
}
