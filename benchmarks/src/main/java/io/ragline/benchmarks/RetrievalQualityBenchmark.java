package io.ragline.benchmarks;

import io.ragline.benchmarks.corpus.Corpus;
import io.ragline.benchmarks.corpus.CorpusDocument;
import io.ragline.benchmarks.corpus.DebianPackages;
import io.ragline.benchmarks.corpus.KnownItemQuery;
import io.ragline.benchmarks.corpus.Queries;
import io.ragline.benchmarks.quality.PeerProcess;
import io.ragline.benchmarks.quality.Retrieval;
import io.ragline.benchmarks.quality.Setting;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.TestServices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * Retrieval quality of Ragline's settings, and of the LangChain4j peer, by known-item search over
 * Debian's package descriptions ({@link DebianPackages}): each package's long description is a
 * document (id and title: the package name), its one-line synopsis the query that should find it.
 *
 * <p>For each {@link Setting}, a fresh collection of that model, chunking and template in one
 * {@link BenchmarkPipeline} (the three workers of {@code ragline all}, real Postgres and Kafka): the
 * corpus is published to the {@code documents} topic, and once every document is embedded each
 * query goes to {@code POST /search} as a user sends it (the embedding-worker embeds it with the
 * collection's model and query prefix, {@code search_documents} finds the chunks). The first {@link
 * Retrieval#K} distinct documents of the answer are the ranking. {@link #CHUNKS_ASKED} chunks are
 * asked for (the HNSW search then runs with the {@code ef_search} of a user's top-10 search), and
 * {@code SearchServer.MAX_K} when those hold fewer than 10 distinct documents.
 *
 * <p>The peer, when its classpath is given, ingests the same corpus file (title in front of each
 * segment, as Ragline's default template does) and answers the same queries file in its own JVM,
 * after Ragline's workers have stopped; its rankings are scored here by the same {@link Retrieval}.
 *
 * <p>Prints a Markdown row per setting: MRR@10 with its 95 % margin, the paired difference from the
 * first setting (Ragline's defaults in the default grid), recall@10, recall@1, the seconds from the
 * first send to every document embedded (polled every 50 ms; quality, not speed, is measured here:
 * the ingest benchmarks time speed) and the load average before the row.
 *
 * <p>{@code ./mvnw -q -pl benchmarks exec:java
 * -Dexec.mainClass=io.ragline.benchmarks.RetrievalQualityBenchmark -Dexec.args="--packages 300"};
 * options: {@code --packages N} (300), {@code --seed S} ({@value DebianPackages#DEFAULT_SEED}),
 * {@code --source FILE|apt} (dpkg's status file: the installed packages; see {@link
 * DebianPackages} for the whole archive), {@code --settings grid|MODEL/SIZE/OVERLAP/title,...},
 * {@code --peer CLASSPATH} and {@code --peer-models all-minilm-l6-v2,all-minilm-l6-v2-q}.
 */
public final class RetrievalQualityBenchmark {
    /** Chunks asked of {@code POST /search} for 10 distinct documents. */
    public static final int CHUNKS_ASKED = 40;

    private static final int ALL_CHUNKS = io.ragline.embedding.search.SearchServer.MAX_K;

    private RetrievalQualityBenchmark() {}

    /**
     * One measured setting: its counts, each query's ranking (distinct document ids, best first)
     * and their scores, the ingest seconds and the load average before it.
     */
    public record Row(
            String setting,
            long documents,
            long chunks,
            List<List<String>> rankings,
            Retrieval.Scores scores,
            double ingestSeconds,
            String load) {}

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        System.out.printf(
                Locale.ROOT,
                "%d cores, load average %s; %d packages of %s, seed %d%n",
                Runtime.getRuntime().availableProcessors(),
                loadAverage(),
                o.packages,
                o.source,
                o.seed);
        DebianPackages.KnownItems items =
                DebianPackages.sample(DebianPackages.usable(DebianPackages.read(o.source)), o.packages, o.seed);
        System.out.println("| setting | documents | chunks | queries | MRR@10 ± 95 % | ΔMRR@10 vs first ± 95 %"
                + " | recall@10 | recall@1 | ingest s | load average |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        List<Row> rows = new ArrayList<>();
        try (BenchmarkPipeline pipeline = BenchmarkPipeline.start("quality")) {
            for (Setting s : o.settings) {
                rows.add(print(measure(pipeline, items, s), rows));
            }
        }
        if (o.peer != null) {
            DatabaseUrl url =
                    DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
            for (String model : o.peerModels) {
                rows.add(print(measurePeer(new PeerProcess(o.peer, url), url, items, model), rows));
            }
        }
    }

    /**
     * Creates the setting's collection, loads its model (one search of the empty collection),
     * publishes every document, waits until all are embedded and answers every query.
     *
     * @throws IllegalStateException if the documents are not all embedded within a generous bound
     */
    public static Row measure(BenchmarkPipeline pipeline, DebianPackages.KnownItems items, Setting s) throws Exception {
        String load = loadAverage();
        String collection = s.collection();
        pipeline.createCollection(collection, s.model(), s.chunkSize(), s.chunkOverlap(), s.template());
        pipeline.search(collection, "warm-up", 1);
        long start = System.nanoTime();
        for (CorpusDocument d : items.documents()) {
            pipeline.publish(collection, d.id(), d.title(), d.text());
        }
        pipeline.flush();
        int n = items.documents().size();
        if (!pipeline.awaitEmbedded(collection, n, 120_000 + 500L * n)) {
            throw new IllegalStateException("collection " + collection + ": " + pipeline.embedded(collection) + " of "
                    + n + " documents embedded in time");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        List<List<String>> rankings = new ArrayList<>();
        for (KnownItemQuery q : items.queries()) {
            rankings.add(rank(pipeline, collection, q.query()));
        }
        return new Row(
                s.toString(),
                pipeline.embedded(collection),
                pipeline.chunks(collection),
                rankings,
                Retrieval.score(rankings, expected(items)),
                seconds,
                load);
    }

    /** The first {@link Retrieval#K} distinct documents {@code POST /search} answers for {@code query}. */
    static List<String> rank(BenchmarkPipeline pipeline, String collection, String query) throws Exception {
        List<String> top = Retrieval.distinctTop(pipeline.search(collection, query, CHUNKS_ASKED), Retrieval.K);
        if (top.size() < Retrieval.K) {
            top = Retrieval.distinctTop(pipeline.search(collection, query, ALL_CHUNKS), Retrieval.K);
        }
        return top;
    }

    /** The peer with {@code model} on the same corpus and queries, in a table of its own, dropped after. */
    static Row measurePeer(PeerProcess peer, DatabaseUrl url, DebianPackages.KnownItems items, String model)
            throws Exception {
        String load = loadAverage();
        Path dir = Files.createTempDirectory("ragline-quality");
        String table = "lc4j_quality_" + UUID.randomUUID().toString().substring(0, 8);
        try {
            Path corpus = dir.resolve("corpus.jsonl");
            Path queries = dir.resolve("queries.jsonl");
            Corpus.write(corpus, items.documents());
            Queries.write(queries, items.queries());
            PeerProcess.Ingested ingested = peer.ingest(corpus, table, model);
            List<List<String>> rankings = peer.search(queries, table, model, Retrieval.K);
            return new Row(
                    "LangChain4j " + model + ", recursive(1000, 100) characters, title",
                    ingested.documents(),
                    ingested.segments(),
                    rankings,
                    Retrieval.score(rankings, expected(items)),
                    ingested.seconds(),
                    load);
        } finally {
            BenchmarkDatabase.execute(url, "drop table if exists " + table);
            Files.deleteIfExists(dir.resolve("corpus.jsonl"));
            Files.deleteIfExists(dir.resolve("queries.jsonl"));
            Files.deleteIfExists(dir);
        }
    }

    private static List<String> expected(DebianPackages.KnownItems items) {
        return items.queries().stream().map(KnownItemQuery::id).toList();
    }

    /** Prints {@code row}, with its paired difference from the first of {@code before}; returns it. */
    private static Row print(Row row, List<Row> before) {
        Retrieval.Scores s = row.scores();
        String difference = "—";
        if (!before.isEmpty()) {
            Retrieval.Difference d = Retrieval.difference(s, before.get(0).scores());
            difference = String.format(
                    Locale.ROOT, "%+.3f ± %.3f%s", d.mean(), d.margin(), d.significant() ? " (significant)" : "");
        }
        System.out.printf(
                Locale.ROOT,
                "| %s | %d | %d | %d | %.3f ± %.3f | %s | %.3f | %.3f | %.1f | %s |%n",
                row.setting(),
                row.documents(),
                row.chunks(),
                s.queries(),
                s.mrr(),
                s.mrrMargin(),
                difference,
                s.recallAt10(),
                s.recallAt1(),
                row.ingestSeconds(),
                row.load());
        return row;
    }

    /** The 1, 5 and 15 minute load averages. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    private record Options(
            int packages, long seed, String source, List<Setting> settings, String peer, List<String> peerModels) {
        static Options parse(String[] args) {
            int packages = 300;
            long seed = DebianPackages.DEFAULT_SEED;
            String source = DebianPackages.INSTALLED.toString();
            List<Setting> settings = Setting.grid();
            String peer = null;
            List<String> peerModels = List.of("all-minilm-l6-v2", "all-minilm-l6-v2-q");
            for (int i = 0; i + 1 < args.length; i += 2) {
                String v = args[i + 1];
                switch (args[i]) {
                    case "--packages" -> packages = Integer.parseInt(v);
                    case "--seed" -> seed = Long.parseLong(v);
                    case "--source" -> source = v;
                    case "--settings" ->
                        settings = v.equals("grid")
                                ? Setting.grid()
                                : Arrays.stream(v.split(","))
                                        .map(Setting::parse)
                                        .toList();
                    case "--peer" -> peer = v;
                    case "--peer-models" -> peerModels = List.of(v.split(","));
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (args.length % 2 != 0) {
                throw new IllegalArgumentException("option " + args[args.length - 1] + " has no value");
            }
            return new Options(packages, seed, source, settings, peer, peerModels);
        }
    }
}
