package io.ragline.benchmarks;

import io.ragline.benchmarks.corpus.CorpusDocument;
import io.ragline.benchmarks.corpus.LicencesAndDocs;
import io.ragline.core.collections.IndexBuild;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.embeddings.onnx.OnnxEmbeddingModel;
import io.ragline.embeddings.onnx.OnnxOptions;
import io.ragline.testkit.TcpProxy;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The whole pipeline, Kafka to searchable vectors: the event-dispatcher, ingest-worker and
 * embedding-worker wired in one JVM (as {@code ragline all}) on a real Postgres, a real broker
 * and the real ONNX model. Measures publish-to-searchable latency of one-chunk documents (sent
 * one at a time, each awaited), sustained documents, chunks and tokens per second on a corpus of
 * real documents ({@link LicencesAndDocs}: Debian's licences and this repository's docs at a
 * pinned commit, copied {@code copies} times under new ids), and the same chunks embedded by the model alone (three times: the median), for the ratio.
 *
 * <p>{@code ./mvnw -q -pl benchmarks exec:java -Dexec.mainClass=io.ragline.benchmarks.PipelineBenchmark
 * -Dexec.args="100 3"}
 *
 * <p>A third argument {@code overlap:<rounds>} runs the whole measurement {@code rounds} times
 * with {@code RAGLINE_EMBEDDING_OVERLAP_WRITES=true} and {@code false}, interleaved (the order
 * alternating each round), each run in a fresh pipeline, and prints per round "the model busy"
 * and "pipeline / model" of both, their ratio, and the load average at each start: {@code
 * -Dexec.args="100 3 overlap:3"}.
 *
 * <p>A further argument {@code dblatency:<microseconds>} puts the database farther away from the
 * workers: their connections go through a loopback proxy ({@link TcpProxy#delay}) that delivers
 * every byte that much later in each direction (a round trip costs twice that), as a Postgres on
 * another host would; the benchmark's own queries go straight to it. {@code -Dexec.args="100 3
 * overlap:3 dblatency:500"}: overlapped writes on and off, with a 1 ms round trip to Postgres.
 *
 * <p>{@code warm:<copies>} first runs that many copies of the corpus through the pipeline, untimed,
 * so that the timed copies find more of the workers' code compiled, as in a worker that has run for
 * a while. It changes two things at once: the JIT compilers take less of the machine (3-5 % in a
 * fresh JVM, about 1-3 % after warm copies: compilation goes on), and the timed vectors go into an HNSW
 * index that already holds the warm copies' vectors, whose inserts cost more.
 *
 * <p>{@code index:after-load} loads the timed copies into a collection of their own,
 * {@code bulk}, created with every default but {@link IndexBuild#AFTER_LOAD}: no HNSW index while
 * they are written. After the timed copies it builds the index as {@code ragline collections
 * reindex bulk} does ({@link IndexAfterLoad}) and prints the build's time, Postgres' CPU
 * meanwhile, and the corpus's tokens per second with the build counted. The one-chunk documents of
 * the latency stay in the default collection, with its index. Every run prints where the machine's
 * CPU went ({@link MachineAccount}).
 */
public final class PipelineBenchmark {
    private PipelineBenchmark() {}

    /** What one run measured. */
    private record Run(double p50, double p99, double tokensPerSecond, double modelAlone, double busy, String load) {
        double ofModel() {
            return tokensPerSecond / modelAlone;
        }
    }

    public static void main(String[] args) throws Exception {
        int singles = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        int copies = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        System.out.printf(Locale.ROOT, "%d cores%n", Runtime.getRuntime().availableProcessors());
        int overlapRounds = 0;
        long latencyMicros = 0;
        for (int i = 2; i < args.length; i++) {
            if (args[i].startsWith("overlap:")) {
                overlapRounds = Integer.parseInt(args[i].substring("overlap:".length()));
            } else if (args[i].startsWith("dblatency:")) {
                latencyMicros = Long.parseLong(args[i].substring("dblatency:".length()));
            } else if (args[i].startsWith("warm:")) {
                warmCopies = Integer.parseInt(args[i].substring("warm:".length()));
            } else if (args[i].equals("index:after-load")) {
                copiesTo = BULK;
            } else {
                throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (overlap:<rounds>, dblatency:<us>, warm:<copies>, index:after-load)");
            }
        }
        UnaryOperator<String> workerUrl = UnaryOperator.identity();
        if (latencyMicros > 0) {
            proxy = TcpProxy.forDatabase().delay(Duration.ofNanos(latencyMicros * 1000));
            workerUrl = proxy::databaseUrl;
            System.out.printf(
                    Locale.ROOT,
                    "the workers reach Postgres through a proxy that delays each direction by %d us (round trip %.1f"
                            + " ms more)%n",
                    latencyMicros,
                    2 * latencyMicros / 1000.0);
        }
        databaseUrl = workerUrl;
        try {
            if (overlapRounds > 0) {
                compareOverlap(singles, copies, overlapRounds);
            } else {
                run(singles, copies, Map.of());
            }
        } finally {
            if (proxy != null) {
                proxy.close();
            }
        }
    }

    /** How the workers reach the database: straight, or through a delaying proxy ({@code dblatency:}). */
    private static UnaryOperator<String> databaseUrl = UnaryOperator.identity();
    /** That proxy, whose count of client writes says about how many round trips a stage made. */
    private static TcpProxy proxy;
    /** Copies of the corpus run through the pipeline before the timed ones ({@code warm:}). */
    private static int warmCopies;
    /** The collection {@code index:after-load} loads the copies into. */
    private static final String BULK = "bulk";
    /** The collection of the copies: the default one, or {@link #BULK} ({@code index:after-load}). */
    private static String copiesTo = "default";

    /** {@code rounds} runs with overlapped writes and without, interleaved; a line per round and the medians. */
    private static void compareOverlap(int singles, int copies, int rounds) throws Exception {
        String variable = "RAGLINE_EMBEDDING_OVERLAP_WRITES";
        List<Run> on = new ArrayList<>();
        List<Run> off = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            boolean onFirst = round % 2 == 0;
            for (boolean overlap : onFirst ? new boolean[] {true, false} : new boolean[] {false, true}) {
                System.out.printf(Locale.ROOT, "-- round %d, overlapped writes %s%n", round + 1, overlap);
                (overlap ? on : off).add(run(singles, copies, Map.of(variable, String.valueOf(overlap))));
            }
        }
        System.out.println("| round | overlap | load at start | the model busy | pipeline / model | p50 / p99 ms |");
        System.out.println("|---|---|---|---:|---:|---|");
        for (int i = 0; i < rounds; i++) {
            for (Run r : List.of(on.get(i), off.get(i))) {
                System.out.printf(
                        Locale.ROOT,
                        "| %d | %s | %s | %.0f %% | %.0f %% | %.1f / %.1f |%n",
                        i + 1,
                        r == on.get(i) ? "on" : "off",
                        r.load(),
                        100 * r.busy(),
                        100 * r.ofModel(),
                        r.p50(),
                        r.p99());
            }
        }
        double[] ratios = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            ratios[i] = on.get(i).ofModel() / off.get(i).ofModel();
        }
        Arrays.sort(ratios);
        System.out.printf(
                Locale.ROOT,
                "| pipeline / model, on over off, per round | median %.3f | min %.3f | max %.3f |%n",
                ratios[rounds / 2],
                ratios[0],
                ratios[rounds - 1]);
    }

    private static Run run(int singles, int copies, Map<String, String> settings) throws Exception {
        String load = Machine.loadAverage();
        List<String> sentences = LicencesAndDocs.sentences();
        List<CorpusDocument> corpus = LicencesAndDocs.read();
        try (RaglinePipeline pipeline = RaglinePipeline.start("pipeline-bench", settings, databaseUrl)) {
            publish(pipeline, "warm-up", "Warming up the model and the topics.");
            pipeline.awaitEmbedded("warm-up");
            double[] latency = measureLatency(pipeline, sentences, singles);
            if (copiesTo.equals(BULK)) {
                IndexAfterLoad.create(pipeline, BULK);
            }
            if (warmCopies > 0) {
                long start = System.nanoTime();
                publishCopies(pipeline, corpus, "warm", warmCopies, "default"); // warms the code, not the index
                awaitCopies(pipeline, "default", singles, (long) warmCopies * corpus.size());
                System.out.printf(
                        Locale.ROOT,
                        "| warm-up: %d copies of the corpus, untimed | %.1f s |%n",
                        warmCopies,
                        (System.nanoTime() - start) / 1e9);
            }
            double busyBefore = inferenceSeconds(pipeline);
            MachineAccount cpu = MachineAccount.mark();
            long start = System.nanoTime();
            double tokensPerSecond = measureThroughput(pipeline, corpus, copies, singles);
            double busy = inferenceSeconds(pipeline) - busyBefore;
            cpu.print();
            double wall = (System.nanoTime() - start) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "| the model's calls during the pipeline run | %.1f s of %.1f s | the model busy %.0f %% of the"
                            + " time |%n",
                    busy,
                    wall,
                    100 * busy / wall);
            if (copiesTo.equals(BULK)) {
                IndexAfterLoad.build(pipeline, BULK, tokensPerSecond, wall);
            }
            double alone = measureModelAlone(pipeline, tokensPerSecond);
            return new Run(latency[0], latency[1], tokensPerSecond, alone, busy / wall, load);
        }
    }

    /** Publish-to-searchable latency of {@code singles} one-chunk documents, each awaited: p50 and p99 in ms. */
    private static double[] measureLatency(RaglinePipeline pipeline, List<String> sentences, int singles)
            throws Exception {
        long[] latencies = new long[singles];
        long writesBefore = proxy == null ? 0 : proxy.clientWrites();
        for (int i = 0; i < singles; i++) {
            String id = "single-" + i;
            long start = System.nanoTime();
            publish(pipeline, id, sentences.get(i % sentences.size()));
            pipeline.flush();
            pipeline.awaitEmbedded(id);
            latencies[i] = System.nanoTime() - start;
        }
        System.out.printf(
                Locale.ROOT,
                "| publish -> searchable, one-chunk documents, one at a time | %d documents | p50 %.1f ms | p99 %.1f"
                        + " ms |%n",
                singles,
                Latencies.percentileMillis(latencies, 0.50),
                Latencies.percentileMillis(latencies, 0.99));
        if (proxy != null) {
            System.out.printf(
                    Locale.ROOT,
                    "| the workers' requests to Postgres meanwhile (through the proxy) | %.1f per document |%n",
                    (proxy.clientWrites() - writesBefore) / (double) singles);
        }
        return new double[] {Latencies.percentileMillis(latencies, 0.50), Latencies.percentileMillis(latencies, 0.99)};
    }

    /**
     * Sustained rates on {@code copies} copies of the corpus, published at once; returns the
     * pipeline's tokens per second. The {@code singles} and the warm-up are already embedded.
     */
    private static double measureThroughput(
            RaglinePipeline pipeline, List<CorpusDocument> corpus, int copies, int singles) throws Exception {
        String schema = pipeline.schema();
        long start = System.nanoTime();
        int documents = publishCopies(pipeline, corpus, "copy", copies, copiesTo);
        awaitCopies(
                pipeline,
                copiesTo,
                singles,
                documents + (copiesTo.equals(BULK) ? 0 : (long) warmCopies * corpus.size()));
        double seconds = (System.nanoTime() - start) / 1e9;
        long chunks = pipeline.count("select count(*) from " + schema + ".chunks where document_id in (select id from "
                + schema + ".documents where external_id like 'copy%')");
        long tokens = pipeline.count("select sum(token_count) from " + schema + ".chunks where document_id in (select"
                + " id from " + schema + ".documents where external_id like 'copy%')");
        System.out.printf(
                Locale.ROOT,
                "| pipeline, real documents | %d documents, %,d chunks, %,d tokens | %.1f s | %.1f documents/s, %.1f"
                        + " chunks/s, %,.0f tokens/s |%n",
                documents,
                chunks,
                tokens,
                seconds,
                documents / seconds,
                chunks / seconds,
                tokens / seconds);
        return tokens / seconds;
    }

    /**
     * Publishes {@code copies} copies of the corpus as {@code <prefix><copy>/<name>} into {@code
     * collection}; returns how many documents.
     */
    private static int publishCopies(
            RaglinePipeline pipeline, List<CorpusDocument> corpus, String prefix, int copies, String collection) {
        int documents = 0;
        for (int copy = 0; copy < copies; copy++) {
            for (CorpusDocument doc : corpus) {
                String id = prefix + copy + "/" + doc.id();
                pipeline.publish(collection, id, id, doc.text());
                documents++;
            }
        }
        pipeline.flush();
        return documents;
    }

    /**
     * Waits until the {@code copies} documents of {@code collection} are embedded (and, when it
     * is the default one, the warm-up document and the {@code singles} before them); fails when one
     * failed, or after {@link #EMBEDDED_WITHIN}. It asks every 50 ms, as the runs in
     * docs/benchmarks.md did: the question is Postgres work during the measurement.
     */
    private static void awaitCopies(RaglinePipeline pipeline, String collection, int singles, long copies)
            throws Exception {
        long expected = copies + (collection.equals(BULK) ? 0 : singles + 1);
        pipeline.awaitEmbedded(collection, Math.toIntExact(expected), EMBEDDED_WITHIN, Duration.ofMillis(50));
    }

    /** How long the copies may take to be embedded before a run fails: a quarter of an hour. */
    private static final Duration EMBEDDED_WITHIN = Duration.ofMinutes(15);

    /**
     * The chunks of one copy embedded by the model alone, after the workers stopped, and the
     * pipeline's share of that rate.
     */
    private static double measureModelAlone(RaglinePipeline pipeline, double pipelineTokensPerSecond) throws Exception {
        String schema = pipeline.schema();
        List<String> texts = new ArrayList<>();
        try (ResultSet rs = pipeline.connection()
                .createStatement()
                .executeQuery("select content from " + schema + ".chunks where document_id in (select id from " + schema
                        + ".documents where external_id like 'copy0/%') order by id")) {
            while (rs.next()) {
                texts.add(rs.getString(1));
            }
        }
        long copyTokens = pipeline.count("select sum(token_count) from " + schema + ".chunks where document_id in"
                + " (select id from " + schema + ".documents where external_id like 'copy0/%')");
        String modelName;
        try (ResultSet rs = pipeline.connection()
                .createStatement()
                .executeQuery("select embedding_model from " + schema + ".collections where name = 'default'")) {
            rs.next();
            modelName = rs.getString(1); // the model the pipeline ran, whatever the default is
        }
        pipeline.runtime().close(); // frees the cores for the model alone
        try (OnnxEmbeddingModel model = OnnxEmbeddingModel.load(ModelCatalog.get(modelName), OnnxOptions.defaults())) {
            model.embed(texts.subList(0, Math.min(64, texts.size()))); // warm-up
            // The shared machine's speed drifts by several per cent within minutes: the median of
            // a few measurements, each printed, is the ratio's denominator.
            double[] rates = new double[MODEL_ALONE_REPEATS];
            long self = ProcessHandle.current().pid();
            for (int i = 0; i < rates.length; i++) {
                double cpuBefore = ProcCpu.ownSeconds(self);
                double[] machineBefore = ProcCpu.machine();
                long t = System.nanoTime();
                model.embed(texts);
                double s = (System.nanoTime() - t) / 1e9;
                double[] machineAfter = ProcCpu.machine();
                rates[i] = copyTokens / s;
                System.out.printf(
                        Locale.ROOT,
                        "| the model alone (%s), same chunks (one copy), batch %d, %d of %d | %,d chunks, %,d tokens |"
                                + " %.1f s | %,.0f tokens/s | this JVM %.1f CPU-s, the machine %.0f %% busy |%n",
                        modelName,
                        OnnxOptions.DEFAULT_MAX_BATCH_SIZE,
                        i + 1,
                        rates.length,
                        texts.size(),
                        copyTokens,
                        s,
                        rates[i],
                        ProcCpu.ownSeconds(self) - cpuBefore,
                        100 * (machineAfter[0] - machineBefore[0]) / (machineAfter[1] - machineBefore[1]));
            }
            double[] sorted = rates.clone();
            Arrays.sort(sorted);
            double median = sorted[sorted.length / 2];
            System.out.printf(
                    Locale.ROOT,
                    "| the model alone, median of %d | %,.0f tokens/s (%,.0f-%,.0f) | the pipeline reached %.0f %% of it"
                            + " (%.0f-%.0f %%) |%n",
                    rates.length,
                    median,
                    sorted[0],
                    sorted[sorted.length - 1],
                    100.0 * pipelineTokensPerSecond / median,
                    100.0 * pipelineTokensPerSecond / sorted[sorted.length - 1],
                    100.0 * pipelineTokensPerSecond / sorted[0]);
            return median;
        }
    }

    /** How many times the model alone embeds the copy; an odd number, for a median. */
    private static final int MODEL_ALONE_REPEATS = 3;

    /** Time spent in the embedding consumer's model calls so far ({@code ragline.embedding.inference}). */
    private static double inferenceSeconds(RaglinePipeline pipeline) {
        return pipeline.runtime().registry().find("ragline.embedding.inference").timers().stream()
                .mapToDouble(t -> t.totalTime(TimeUnit.SECONDS))
                .sum();
    }

    private static void publish(RaglinePipeline pipeline, String id, String text) {
        pipeline.publish("default", id, id, text);
    }
}
