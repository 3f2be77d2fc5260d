package io.ragline.embedding;

import io.micrometer.core.instrument.Gauge;
import io.ragline.contracts.Topic;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.core.WorkerMain;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.ContractDecoder;
import io.ragline.core.consumer.FailureKind;
import io.ragline.core.consumer.FailurePolicy;
import io.ragline.core.http.HttpSettings;
import io.ragline.core.lifecycle.Supervisor;
import io.ragline.embedding.migration.MigrationSwitcher;
import io.ragline.embedding.request.EmbeddingWriter;
import io.ragline.embedding.search.SearchServer;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingSettings;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code embedding-worker} process: consumes {@code embedding-requests}, writes vectors into
 * pgvector (of every embedding generation of a collection), switches a collection whose migration is
 * complete to its new generation ({@link MigrationSwitcher}), and serves {@code POST /search} on {@code RAGLINE_HTTP_PORT} behind bearer tokens (docs/architecture.md
 * sections 2, 3 and 10).
 */
public final class EmbeddingWorker {
    public static final String NAME = "embedding-worker";

    /** {@code RAGLINE_HTTP_PORT} default. */
    public static final int DEFAULT_HTTP_PORT = 8082;

    /** {@code RAGLINE_ADMIN_PORT} default. */
    public static final int DEFAULT_ADMIN_PORT = 9082;

    public static final String EMBEDDING_REQUESTS = Topic.EMBEDDING_REQUESTS.topic();

    /**
     * The search port of {@code ragline all}, where {@code RAGLINE_HTTP_PORT} is the webhooks'.
     * The embedding-worker process alone serves search on {@code RAGLINE_HTTP_PORT}.
     */
    public static final String SEARCH_PORT = "RAGLINE_SEARCH_PORT";

    /**
     * Embedding requests per batch. A request is a whole document, possibly hundreds of chunks, and
     * the consumer does not poll while the model runs: at the 26-30 chunks/s of 200 tokens measured
     * for MiniLM on 2 cores (docs/benchmarks.md), 16 documents of 100 chunks take about a minute,
     * 500 (the process's {@code RAGLINE_MAX_POLL_RECORDS}) half an hour, past {@code
     * RAGLINE_MAX_POLL_INTERVAL}; and nothing in a batch is visible until all of it is. The model
     * runs with no connection held (see {@code EmbeddingWriter}), so the bound is not the pool's.
     * Chunks of the batch's requests still share the model's calls.
     */
    public static final String MAX_REQUESTS = "RAGLINE_EMBEDDING_MAX_REQUESTS";

    public static final int DEFAULT_MAX_REQUESTS = 16;

    /**
     * Whether a batch's transaction (vectors, statuses, outbox, offsets) runs on a writer thread
     * while the consumer thread polls the next batch and embeds it, so the model does not idle
     * while Postgres writes ({@code ConsumerLoop}, docs/architecture.md section 11). Off: each
     * batch is written before the next is polled, as before; one pooled connection per consumer
     * thread instead of up to two at once (the transaction's and the next batch's read). On by
     * default since the 128-token chunks (twice the rows per token): on the 2-core machine of
     * docs/benchmarks.md it raised the pipeline's tokens/s in 7 interleaved rounds of 8 (3-11 %, median
     * 7 %, in the last five),
     * though the writes' CPU is still the model's there; where Postgres runs on other cores or
     * another host, the writes' wall time is all it hides.
     */
    public static final String OVERLAP_WRITES = "RAGLINE_EMBEDDING_OVERLAP_WRITES";

    public static final boolean DEFAULT_OVERLAP_WRITES = true;

    private static final Logger log = LoggerFactory.getLogger(EmbeddingWorker.class);

    private EmbeddingWorker() {}

    /**
     * What an operator should hear at start-up when the pool is smaller than what the embedding
     * consumers hold at once: each consumer thread one connection for its transaction, and with
     * overlapped writes one more for the next batch's read while that transaction runs, plus one
     * left for search. Batches would otherwise wait for connections (and time out as transient
     * failures) rather than fail; empty when the pool is large enough.
     */
    static Optional<String> poolShortfall(int poolSize, int consumerThreads, boolean overlapWrites) {
        int needed = consumerThreads * (overlapWrites ? 2 : 1) + 1;
        if (poolSize >= needed) {
            return Optional.empty();
        }
        return Optional.of(CoreSettings.POOL_SIZE + "=" + poolSize + " is below the " + needed
                + " connections the embedding-worker's " + consumerThreads + " consumer thread(s) hold at once"
                + (overlapWrites
                        ? " with overlapped writes (2 each: a transaction and the next batch's read)"
                        : " (1 each)")
                + " plus one for search (a floor: search threads, the migration switcher and, under `ragline all`,"
                + " the other workers share the pool): batches and searches will wait for connections. Raise "
                + CoreSettings.POOL_SIZE + " to at least " + needed
                + (overlapWrites ? ", or set " + OVERLAP_WRITES + "=false" : "")
                + ".");
    }

    public static void main(String[] args) {
        Env env = Env.load();
        System.exit(WorkerMain.run(NAME, DEFAULT_ADMIN_PORT, env, wiring(env, "RAGLINE_HTTP_PORT", DEFAULT_HTTP_PORT)));
    }

    /**
     * The consumer's failure policy: the defaults, and an embedding failure a retry may cure (the
     * service unavailable, or refusing this worker's key, URL or model) is transient: the batch is
     * rewound and retried with backoff, never dead-lettered and never blamed on its documents.
     */
    public static FailurePolicy failurePolicy() {
        return FailurePolicy.defaults()
                .withRule(new FailurePolicy.Rule(
                        "embedding service unavailable",
                        t -> t instanceof EmbeddingException e && e.retryable(),
                        FailureKind.TRANSIENT));
    }

    /**
     * Reads the settings now (their problems join the start-up report, a search that would answer
     * anyone among them: see {@link HttpSettings#forApi}); starts consumer and server later,
     * search listening on {@code portVariable} of {@code RAGLINE_HTTP_HOST} (default every
     * interface).
     */
    public static Consumer<WorkerRuntime> wiring(Env env, String portVariable, int defaultHttpPort) {
        return wiring(
                env,
                portVariable,
                defaultHttpPort,
                HttpSettings.forApi(env, HttpSettings.DEFAULT_HOST, SearchServer.NAME));
    }

    /**
     * As {@link #wiring(Env, String, int)}, with HTTP settings read by the caller ({@code ragline
     * all}, whose webhooks share them).
     */
    public static Consumer<WorkerRuntime> wiring(Env env, String portVariable, int defaultHttpPort, HttpSettings http) {
        int httpPort = env.port(portVariable, defaultHttpPort);
        EmbeddingSettings embedding = EmbeddingSettings.from(env);
        int maxRequests = env.integer(MAX_REQUESTS, DEFAULT_MAX_REQUESTS, 1, 10_000);
        boolean overlapWrites = env.bool(OVERLAP_WRITES, DEFAULT_OVERLAP_WRITES);
        NonServingSettings nonServing = NonServingSettings.from(env);
        return runtime -> {
            poolShortfall(
                            runtime.settings().poolSize(),
                            runtime.settings().kafka().consumerThreads(),
                            overlapWrites)
                    .ifPresent(log::warn);
            ProviderRegistry providers = runtime.manage(new ProviderRegistry(embedding, runtime.dataSource()));
            runtime.addReadinessCheck(providers.readiness()); // 503 until the serving models are loaded
            runtime.addReadinessCheck(providers.nonServing()); // reported, never unready
            Gauge.builder("ragline.embedding.nonserving.models.failed", providers, ProviderRegistry::nonServingProblems)
                    .description("Models only building or kept generations use that failed to load or cannot be"
                            + " reached yet (named in the warnings of /health/ready; their vectors are owed)")
                    .register(runtime.registry());
            CollectionCatalog catalog = new CollectionCatalog(Duration.ofSeconds(10));
            ConsumerBinding<EmbeddingRequest> binding = new ConsumerBinding<>(
                            EMBEDDING_REQUESTS,
                            List.of(runtime.settings().topic(EMBEDDING_REQUESTS)),
                            new ContractDecoder<>(new EmbeddingRequestCodec()),
                            runtime.manage(
                                    new EmbeddingWriter( // its non-serving calls interrupted on shutdown
                                            runtime.dataSource(),
                                            catalog,
                                            providers,
                                            providers::nonServingUncreatable,
                                            runtime.registry(),
                                            nonServing.deadline(),
                                            embedding.batchSize(),
                                            runtime.settings().kafka().consumerThreads())),
                            failurePolicy())
                    .withMaxPollRecords(maxRequests)
                    .withOverlappedWrites(overlapWrites);
            // Subscribe once the models were tried: partitions received can be embedded at once.
            providers.loadAtStart(runtime.fatalPathOf(ProviderRegistry.LOADER), () -> {
                if (runtime.isClosed()) {
                    return; // SIGTERM came while the models loaded: no topic to ask, no consumer to make
                }
                try {
                    runtime.consume(binding);
                } catch (Supervisor.StoppingException closing) {
                    // SIGTERM came while the models loaded: nothing to consume any more
                }
            });
            MigrationSwitcher switcher = new MigrationSwitcher(runtime.dataSource(), runtime.registry());
            runtime.supervise(MigrationSwitcher.THREAD, switcher, switcher::stop);
            runtime.manage(new SearchServer(
                    http, httpPort, portVariable, runtime.dataSource(), catalog, providers, runtime.registry()));
        };
    }
}
