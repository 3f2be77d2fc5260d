package io.ragline.embedding.request;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.ragline.core.collections.Collection;
import io.ragline.core.config.Problems;
import io.ragline.embedding.request.EmbeddedBatch.Job;
import io.ragline.embedding.request.EmbeddedBatch.Outcome;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import io.ragline.embeddings.EmbeddingSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model calls of the generations that were not serving when a batch was read (a migration's
 * building one, a kept one), made so that the serving path never waits on them beyond a bound.
 *
 * <p>They run on threads of their own ({@code embedding-nonserving-N}), started before the serving
 * calls and side by side with them. Each call reaches its model in
 * slices of at most the providers' batch size ({@code RAGLINE_EMBEDDING_BATCH_SIZE}) texts, and every step of a call to a model outside this process
 * (an OpenAI-compatible endpoint, {@code pgml.embed}: getting the provider, then each slice) must
 * answer within {@code deadline} ({@code RAGLINE_EMBEDDING_NONSERVING_DEADLINE}) of the previous
 * one: a model that answers keeps being waited for (a migration's healthy backfill is work, however
 * long), a model that does not answer for that long is abandoned. The consumer thus waits at most
 * the deadline past its own serving calls for a model that hangs. An in-process ONNX model has no
 * deadline: it waits on nothing but this process's cores, and its run cannot be stopped, so an
 * abandoned run would go on using them; its time is the migration's work, not a wait. An abandoned call's jobs, and those of a later batch whose
 * model is still busy with it, are <em>owed</em>, exactly as those of a model that failed: nothing
 * of them is written, the serving vectors and statuses are, and the migration's sweep ({@code
 * request_owed_vectors}, V28) asks for those documents again. A call abandoned at its deadline
 * stops at its next slice; the provider call under way goes on until the provider gives up: for an
 * OpenAI-compatible endpoint up to {@code RAGLINE_OPENAI_MAX_ATTEMPTS} requests of {@code
 * RAGLINE_OPENAI_TIMEOUT} each, with the backoff between them and the rate limiter's wait. While it
 * runs it is counted as stuck (each such call of a model, {@code
 * ragline_embedding_nonserving_calls_stuck}) and that model's later jobs are owed at once. Calls a
 * failed batch or the worker's stop throws away are interrupted, so they end at once. At most
 * {@link CallThreads#CALLS_PER_CONSUMER} calls per consumer thread ({@code RAGLINE_CONSUMER_THREADS})
 * run at once; a call that finds every thread busy waits briefly for one to come free, then is owed,
 * never failed; {@link #close} interrupts what still runs.
 */
final class NonServingCalls {
    private static final Logger log = LoggerFactory.getLogger(NonServingCalls.class);

    /** The provider, model and dimensions one provider serves: the jobs of one call. */
    private record ModelKey(String provider, String model, int dimensions) {
        static ModelKey of(Collection c) {
            return new ModelKey(c.provider(), c.model(), c.dimensions());
        }

        /**
         * An ONNX model runs in this JVM: its call waits on nothing but this process's cores, and a
         * run cannot be stopped, so abandoning it would go on spending them and only waste the work.
         */
        boolean inProcess() {
            return EmbeddingSettings.Provider.ONNX.name().equalsIgnoreCase(provider);
        }
    }

    private final Function<Collection, EmbeddingProvider> providers;
    private final BiConsumer<Collection, String> uncreatable;
    private final Duration deadline;
    /**
     * Texts per provider call: the providers' own batch ({@code RAGLINE_EMBEDDING_BATCH_SIZE}, one
     * HTTP request of an OpenAI-compatible endpoint), so the deadline is one per answer and a healthy
     * model makes as many requests, and takes as many rate-limit permits, as it would unsliced.
     */
    private final int slice;
    /** The deadline as an operator writes it ({@code 10s}), for messages. */
    private final String within;

    private final EmbeddingMetrics metrics;
    private final Counter abandonedCalls;
    /**
     * How many abandoned calls still run, by model (none: absent): a batch meanwhile owes that
     * model's jobs at once. Calls that run within their deadline are not counted: consumer threads
     * ({@code RAGLINE_CONSUMER_THREADS}) may call one model side by side.
     */
    private final Map<ModelKey, Integer> stuck = new ConcurrentHashMap<>();

    /** The calls' threads, sized from the consumer threads ({@link CallThreads}). */
    private final CallThreads threads;

    NonServingCalls(
            Function<Collection, EmbeddingProvider> providers,
            BiConsumer<Collection, String> uncreatable,
            Duration deadline,
            int slice,
            int consumers,
            EmbeddingMetrics metrics,
            MeterRegistry registry) {
        if (slice < 1) {
            throw new IllegalArgumentException("a non-serving call's slice must hold a text at least, not " + slice);
        }
        this.providers = providers;
        this.uncreatable = uncreatable;
        this.deadline = deadline;
        this.slice = slice;
        this.within = Problems.text(deadline);
        this.metrics = metrics;
        this.abandonedCalls = Counter.builder("ragline.embedding.nonserving.calls.abandoned")
                .description("Calls of a building or kept generation's model that did not answer within"
                        + " RAGLINE_EMBEDDING_NONSERVING_DEADLINE: their vectors are owed")
                .register(registry);
        Gauge.builder(
                        "ragline.embedding.nonserving.calls.stuck",
                        stuck,
                        m -> m.values().stream().mapToInt(Integer::intValue).sum())
                .description("Calls of a building or kept generation's model abandoned and still running: while"
                        + " one of a model runs, that model's vectors are owed at once")
                .register(registry);
        this.threads = new CallThreads(consumers, deadline);
    }

    /** Interrupts the calls still running and waits for them briefly ({@link CallThreads#close}). */
    void close() {
        threads.close();
    }

    /** The calls of one batch: those started, and the outcomes settled at once (their model busy). */
    static final class Started {
        private final List<Call> calls = new ArrayList<>();
        private final List<Outcome> settled = new ArrayList<>();
    }

    /** Starts a call per model for {@code jobs} (none serving when read), each on a thread of its own. */
    Started start(List<Job> jobs) {
        Map<ModelKey, List<Job>> byModel = new LinkedHashMap<>();
        jobs.forEach(j -> byModel.computeIfAbsent(ModelKey.of(j.collection()), k -> new ArrayList<>())
                .add(j));
        Started started = new Started();
        byModel.forEach((key, mine) -> {
            if (stuck.containsKey(key)) { // an abandoned call still runs: owed at once, nothing waits for it
                log.debug(
                        "model {} is still busy with a call that passed its deadline: {} job(s) owed",
                        key,
                        mine.size());
                mine.forEach(j -> started.settled.add(Outcome.owed(
                        j,
                        "model " + key.model() + " is still busy with a call that did not answer within " + within)));
                return;
            }
            Call call = new Call(key, mine);
            try {
                threads.execute(call);
            } catch (RuntimeException | OutOfMemoryError e) { // refused (every thread busy, closed), no thread: owed
                log.warn(
                        "no thread for the call of model {} of a building or kept generation ({} job(s)): {}; the"
                                + " serving vectors are written without its vectors, which are owed",
                        key.model(),
                        mine.size(),
                        e.toString());
                mine.forEach(
                        j -> started.settled.add(Outcome.owed(j, "no thread for model " + key.model() + ": " + e)));
                return;
            }
            started.calls.add(call);
        });
        return started;
    }

    /**
     * The outcomes of {@code started}'s jobs: each call's, once it ends, or owed when it passes the
     * deadline without an answer (it is abandoned).
     */
    List<Outcome> await(Started started) throws InterruptedException {
        List<Outcome> outcomes = new ArrayList<>(started.settled);
        try {
            for (Call call : started.calls) {
                outcomes.addAll(call.await());
            }
        } catch (InterruptedException | RuntimeException | Error e) { // the worker stops, or a fatal error
            abandon(started);
            throw e;
        }
        return outcomes;
    }

    /**
     * Abandons {@code started}'s calls (the serving calls failed and the batch is retried, or the
     * worker stops): their work would be thrown away, so each still running is interrupted (an HTTP
     * request, a retry's backoff and the rate limiter's wait end at once), and counted as stuck
     * until it ends.
     */
    void abandon(Started started) {
        started.calls.forEach(c -> c.abandon(true));
    }

    /** One model's call for its jobs of a batch, on a thread of its own; its progress is the time of its last answer. */
    private final class Call implements Runnable {
        private final ModelKey key;
        private final List<Job> jobs;
        private final CompletableFuture<List<Outcome>> result = new CompletableFuture<>();
        private volatile long answered = System.nanoTime();
        private volatile boolean abandoned;
        /** The thread running it, until it ends; guarded by {@code this}. */
        private Thread runner;
        /** Whether it ended; guarded by {@code this}. */
        private boolean ended;
        /** Whether it counts in {@link #stuck}; guarded by {@code this}. */
        private boolean counted;

        Call(ModelKey key, List<Job> jobs) {
            this.key = key;
            this.jobs = jobs;
        }

        @Override
        public void run() {
            try {
                synchronized (this) {
                    runner = Thread.currentThread();
                    if (abandoned) { // before it began: nothing to do (the finally below ends it)
                        result.complete(owed("abandoned before it began"));
                        return;
                    }
                }
                EmbeddingProvider provider;
                try {
                    provider = providers.apply(jobs.get(0).collection());
                } catch (EmbeddingException e) {
                    // Still loading, or its endpoint not configured here, its model not in this build:
                    // configuration an operator mends; no input was refused: owed, never a refusal.
                    // Abandoned (interrupted, say, while it created the provider): not the model's doing.
                    if (abandoned) {
                        result.complete(owed(e.getMessage()));
                        return;
                    }
                    log.warn(
                            "the model of a building or kept generation cannot run on this embedding-worker ({} job(s)):"
                                    + " {}; the serving vectors are written without its vectors, which are owed: the"
                                    + " migration's sweep asks for those documents again",
                            jobs.size(),
                            e.getMessage());
                    if (!e.retryable()) { // not a model still loading: configuration, reported until mended
                        uncreatable.accept(jobs.get(0).collection(), e.getMessage());
                    }
                    result.complete(owed(e.getMessage()));
                    return;
                }
                answered = System.nanoTime();
                result.complete(ModelCall.embed(provider, jobs, this::inSlices, metrics));
            } catch (RuntimeException e) {
                // An EmbeddingException, or a defect of the provider (never the serving batch's to fail)
                if (!abandoned) {
                    log.warn(
                            "model {} of a building or kept generation (collection '{}' generation {}, {} job(s) in"
                                    + " all) failed: {}; the serving vectors are written without its vectors, which"
                                    + " are owed: the migration's sweep asks for those documents again",
                            key.model(),
                            jobs.get(0).collection().name(),
                            jobs.get(0).generation(),
                            jobs.size(),
                            e instanceof EmbeddingException ? e.getMessage() : e.toString(),
                            e instanceof EmbeddingException ? null : e);
                }
                result.complete(owed(e instanceof EmbeddingException ? e.getMessage() : e.toString()));
            } catch (Error e) { // fatal: the batch fails and the worker's fatal path hears of it
                result.completeExceptionally(e);
            } finally {
                synchronized (this) {
                    ended = true;
                    runner = null;
                    if (counted) {
                        stuck.computeIfPresent(key, (k, n) -> n == 1 ? null : n - 1);
                    }
                }
                Thread.interrupted(); // an interrupt of this call must not reach the pool's next task
            }
        }

        /**
         * Abandons this call once: counted in {@link #stuck} while it still runs (or has yet to
         * begin), and with {@code interrupt} interrupted. Its result is never used, its vectors never
         * counted. A call abandoned at its deadline is not interrupted: while it runs (at most the
         * provider's timeout times its attempts) it is the sign that its model still hangs, so later
         * batches owe that model's jobs at once; interrupted, it would end at once and every batch
         * would wait the deadline again.
         */
        synchronized void abandon(boolean interrupt) {
            if (abandoned) {
                return;
            }
            abandoned = true;
            if (!ended) {
                counted = true;
                stuck.merge(key, 1, Integer::sum);
                if (interrupt && runner != null) {
                    runner.interrupt();
                }
            }
        }

        /** The texts' vectors, {@link #slice} at a time, each answer moving the deadline on. */
        private List<float[]> inSlices(EmbeddingProvider provider, List<String> texts) {
            List<float[]> vectors = new ArrayList<>(texts.size());
            for (int from = 0; from < texts.size(); from += slice) {
                if (abandoned) {
                    throw new EmbeddingException("abandoned: no answer within " + within, true);
                }
                vectors.addAll(provider.embed(texts.subList(from, Math.min(texts.size(), from + slice))));
                answered = System.nanoTime();
            }
            if (abandoned) { // nothing of it is written: not counted as computed either
                throw new EmbeddingException("abandoned: no answer within " + within, true);
            }
            return vectors;
        }

        List<Outcome> await() throws InterruptedException {
            if (key.inProcess()) {
                try {
                    return result.get();
                } catch (ExecutionException e) {
                    throw unchecked(e);
                }
            }
            while (true) {
                long left = answered + deadline.toNanos() - System.nanoTime();
                try {
                    if (left > 0) {
                        return result.get(left, TimeUnit.NANOSECONDS);
                    }
                    if (result.isDone()) {
                        return result.get();
                    }
                } catch (TimeoutException stillWaiting) {
                    continue; // it may have answered meanwhile: the deadline moved
                } catch (ExecutionException e) {
                    throw unchecked(e);
                }
                abandon(false);
                abandoned();
                String error = "model " + key.model() + " did not answer within " + within
                        + " (RAGLINE_EMBEDDING_NONSERVING_DEADLINE)";
                return owed(error);
            }
        }

        /** The cause of {@code e}: {@link #run} completes the result exceptionally only with an unchecked one. */
        private RuntimeException unchecked(ExecutionException e) {
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            return (RuntimeException) e.getCause();
        }

        private void abandoned() {
            abandonedCalls.increment();
            log.warn(
                    "model {} of a building or kept generation (collection '{}' generation {}, {} job(s) in all) did"
                            + " not answer within {} (RAGLINE_EMBEDDING_NONSERVING_DEADLINE); the serving vectors are"
                            + " written without its vectors, which are owed: the migration's sweep asks for those"
                            + " documents again, and while the call still runs this model's jobs are owed at once",
                    key.model(),
                    jobs.get(0).collection().name(),
                    jobs.get(0).generation(),
                    jobs.size(),
                    within);
        }

        private List<Outcome> owed(String error) {
            return jobs.stream().map(j -> Outcome.owed(j, error)).toList();
        }
    }
}
