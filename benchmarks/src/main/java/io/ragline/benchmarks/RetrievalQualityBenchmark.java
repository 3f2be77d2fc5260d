package io.ragline.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.benchmarks.corpus.Corpus;
import io.ragline.benchmarks.corpus.CorpusDocument;
import io.ragline.benchmarks.corpus.DebianPackages;
import io.ragline.benchmarks.corpus.KnownItemQuery;
import io.ragline.benchmarks.corpus.KnownItems;
import io.ragline.benchmarks.corpus.ManPageCloze;
import io.ragline.benchmarks.corpus.Queries;
import io.ragline.benchmarks.quality.QualityOptions;
import io.ragline.benchmarks.quality.Rankings;
import io.ragline.benchmarks.quality.Retrieval;
import io.ragline.benchmarks.quality.Setting;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.embedding.ProviderRegistry;
import io.ragline.embedding.search.SearchMode;
import io.ragline.embedding.search.Searcher;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.testkit.TestServices;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * Retrieval quality of Ragline's settings, and of the LangChain4j peer, by known-item search over
 * Debian's package descriptions ({@link DebianPackages}): each package's long description is a
 * document (id and title: the package name), its one-line synopsis the query that should find it.
 *
 * <p>For each {@link Setting}, a fresh collection of that model, chunking and template in one
 * {@link RaglinePipeline} (the three workers of {@code ragline all}, real Postgres and Kafka): the
 * corpus is published to the {@code documents} topic and, once every document is embedded, each
 * query is searched as users search, in each search mode ({@link #MODES}: vector, text, hybrid),
 * over the one ingest ({@link Rankings#ragline}: Ragline's {@link Searcher}, which {@code POST
 * /search} runs: the collection's model and query prefix, {@code search_documents}, one hit per
 * document). The searcher has a {@link ProviderRegistry} of its own over the workers' pool, built
 * from the same settings, so each model is loaded twice in this JVM (the same files, the same
 * vectors).
 *
 * <p>The peer, when asked for ({@code --peer MODEL,...}), runs after Ragline's workers stopped: it
 * ingests the same corpus file into a table of its own (title in front of each segment, as
 * Ragline's default template does) and answers the same queries file in its own JVM; its rankings
 * are scored here by the same {@link Retrieval}.
 *
 * <p>Prints a Markdown row per setting and mode: MRR@10 with its 95 % margin, the paired difference
 * from the setting's first mode (vector; the peer's rows: from the first row), recall@10, recall@1, the seconds from the
 * first send to every document embedded (with the workers' loading of a model they had not
 * loaded yet; the peer: its {@code ingest} call alone; quality, not speed, is what this benchmark
 * compares) and the load average before the row; then each setting's best mode, with its paired
 * differences from the others.
 *
 * <p>{@code ./mvnw -q -pl benchmarks exec:java
 * -Dexec.mainClass=io.ragline.benchmarks.RetrievalQualityBenchmark -Dexec.args="--packages 300"};
 * options: {@code --packages N} (300), {@code --seed S} ({@value DebianPackages#DEFAULT_SEED}),
 * {@code --source FILE|apt} (default dpkg's status file, the installed packages; see {@link
 * DebianPackages} for the whole archive's descriptions), {@code --min-chars C} (200; 800 keeps
 * the documents of several chunks, where chunking and the peer's 128-token cut matter), {@code --settings
 * grid|MODEL/SIZE/OVERLAP/title,...}, {@code --modes vector,text,hybrid} and {@code --peer
 * all-minilm-l6-v2,all-minilm-l6-v2-q}.
 *
 * <p>{@code --man-pages N} asks the other corpus instead, long documents: {@link ManPageCloze},
 * {@code N} manual pages with {@code --per-page Q} (2) sentences taken out of each as the queries
 * (kept in {@code --corpus-dir DIR}, default {@code ragline-man-cloze} under the temporary
 * directory, since rendering them takes minutes).
 */
public final class RetrievalQualityBenchmark {
    /** The search modes measured, in this order: the first is each setting's baseline. */
    public static final List<SearchMode> MODES = List.of(SearchMode.VECTOR, SearchMode.TEXT, SearchMode.HYBRID);

    /** The mode column of the peer's rows: it has one way to search. */
    static final String PEER_MODE = "vector (its own)";

    private RetrievalQualityBenchmark() {}

    /**
     * One measured setting in one search mode: its counts, each query's ranking (distinct document
     * ids, best first) and their scores, the ingest seconds and the load average before it.
     */
    public record Row(
            String setting,
            String mode,
            long documents,
            long chunks,
            List<List<String>> rankings,
            Retrieval.Scores scores,
            double ingestSeconds,
            String load) {}

    public static void main(String[] args) throws Exception {
        QualityOptions o = QualityOptions.parse(args, MODES);
        KnownItems items = o.items();
        List<Row> rows = new ArrayList<>();
        try (RaglinePipeline pipeline = RaglinePipeline.start("quality");
                ProviderRegistry models = new ProviderRegistry(
                        EmbeddingSettings.from(Env.load()), pipeline.runtime().dataSource())) {
            System.out.printf(
                    Locale.ROOT,
                    "%s; load average %s; %s, seed %d%n",
                    Machine.describe(pipeline.connection()),
                    Machine.loadAverage(),
                    o.describe(items),
                    o.seed());
            System.out.println("| setting | mode | documents | chunks | queries | MRR@10 ± 95 % | ΔMRR@10 vs the"
                    + " setting's first mode ± 95 % | recall@10 | recall@1 | ingest s | load average |");
            System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
            Searcher searcher = new Searcher(
                    pipeline.runtime().dataSource(), new CollectionCatalog(Duration.ofSeconds(10)), models);
            for (Setting s : o.settings()) {
                List<Row> modes = measure(pipeline, searcher, items, s, o.modes());
                modes.forEach(row -> print(row, modes.get(0)));
                rows.addAll(modes);
            }
        }
        if (!o.peerModels().isEmpty()) {
            String rawUrl = TestServices.get().databaseUrl();
            PeerProcess peer = PeerProcess.locate(rawUrl);
            for (String model : o.peerModels()) {
                rows.add(print(measurePeer(peer, rawUrl, items, model), rows.isEmpty() ? null : rows.get(0)));
            }
        }
        printBestModes(rows);
        printAgainstFirstSetting(rows);
    }

    /**
     * Each mode of each later setting against the first setting's same mode, paired on the same
     * queries: the comparison that decides a default between models or chunkings (the table's Δ
     * only compares the modes of one setting). The peer is compared with every setting's hybrid
     * and vector rows.
     */
    private static void printAgainstFirstSetting(List<Row> rows) {
        List<Row> ours = rows.stream().filter(r -> !r.mode().equals(PEER_MODE)).toList();
        if (ours.isEmpty()) {
            return;
        }
        String first = ours.get(0).setting();
        for (Row row : ours) {
            if (row.setting().equals(first)) {
                continue;
            }
            ours.stream()
                    .filter(r -> r.setting().equals(first) && r.mode().equals(row.mode()))
                    .findFirst()
                    .ifPresent(base -> System.out.println(comparison(row, base)));
        }
        rows.stream()
                .filter(r -> r.mode().equals(PEER_MODE))
                .forEach(peer -> ours.forEach(r -> System.out.println(comparison(r, peer))));
    }

    private static String comparison(Row row, Row base) {
        Retrieval.Difference d = Retrieval.difference(row.scores(), base.scores());
        return String.format(
                Locale.ROOT,
                "%s %s against %s %s: %+.3f ± %.3f MRR@10%s",
                row.setting(),
                row.mode(),
                base.setting(),
                base.mode(),
                d.mean(),
                d.margin(),
                d.significant() ? " (significant)" : " (not significant)");
    }

    /**
     * The best mode of each setting by MRR@10, with its paired difference from each other mode of
     * the setting (significant when the 95 % interval excludes 0).
     */
    private static void printBestModes(List<Row> rows) {
        Map<String, List<Row>> bySetting = new LinkedHashMap<>();
        rows.stream()
                .filter(r -> !r.mode().equals(PEER_MODE))
                .forEach(r -> bySetting
                        .computeIfAbsent(r.setting(), k -> new ArrayList<>())
                        .add(r));
        bySetting.forEach((setting, modes) -> {
            Row best = modes.stream()
                    .max(java.util.Comparator.comparingDouble(r -> r.scores().mrr()))
                    .orElseThrow();
            StringBuilder line = new StringBuilder("best mode of " + setting + ": " + best.mode());
            for (Row other : modes) {
                if (other != best) {
                    Retrieval.Difference d = Retrieval.difference(best.scores(), other.scores());
                    line.append(String.format(
                            Locale.ROOT,
                            "; %+.3f ± %.3f over %s%s",
                            d.mean(),
                            d.margin(),
                            other.mode(),
                            d.significant() ? " (significant)" : " (not significant)"));
                }
            }
            System.out.println(line);
        });
    }

    /**
     * Creates the setting's collection, publishes every document, waits until all are embedded
     * and ranks every query in each of {@code modes} ({@code vector}, {@code text}, {@code
     * hybrid}): a row per mode, in that order, over the one ingest.
     *
     * @throws IllegalStateException if a document failed, or they are not all embedded in a
     *     generous time
     */
    static List<Row> measure(
            RaglinePipeline pipeline, Searcher searcher, KnownItems items, Setting s, List<SearchMode> modes)
            throws Exception {
        String load = Machine.loadAverage();
        String collection = s.collection();
        s.createCollection(pipeline.connection(), pipeline.schema());
        Rankings.ragline(
                searcher, collection, "warm-up", SearchMode.VECTOR); // loads the searcher's model, outside the timing
        long start = System.nanoTime();
        for (CorpusDocument d : items.documents()) {
            pipeline.publish(collection, d.id(), d.title(), d.text());
        }
        pipeline.flush();
        int n = items.documents().size();
        pipeline.awaitEmbedded(collection, n, Duration.ofSeconds(120 + n / 2));
        double seconds = (System.nanoTime() - start) / 1e9;
        long documents = count(pipeline, "documents t", "t.status = 'embedded'", collection);
        long chunks = count(pipeline, "chunks t", "true", collection);
        List<Row> rows = new ArrayList<>();
        for (SearchMode mode : modes) {
            List<List<String>> rankings = new ArrayList<>();
            for (KnownItemQuery q : items.queries()) {
                rankings.add(Rankings.ragline(searcher, collection, q.query(), mode));
            }
            rows.add(new Row(
                    s.toString(),
                    mode.wire(),
                    documents,
                    chunks,
                    rankings,
                    Retrieval.score(rankings, expected(items)),
                    seconds,
                    load));
        }
        return rows;
    }

    /** The rows {@code t} of {@code table} in {@code collection} for which {@code condition} holds. */
    private static long count(RaglinePipeline pipeline, String table, String condition, String collection)
            throws Exception {
        try (PreparedStatement s = pipeline.connection()
                .prepareStatement("select count(*) from " + pipeline.schema() + "." + table + " join "
                        + pipeline.schema() + ".collections c on c.id = t.collection_id where c.name = ? and "
                        + condition)) {
            s.setString(1, collection);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The peer with {@code model} on the same corpus and queries, in a table of its own, dropped after. */
    static Row measurePeer(PeerProcess peer, String rawUrl, KnownItems items, String model) throws Exception {
        String load = Machine.loadAverage();
        Path dir = Files.createTempDirectory("ragline-quality");
        Path corpus = dir.resolve("corpus.jsonl");
        Path queries = dir.resolve("queries.jsonl");
        String table = "lc4j_quality_" + UUID.randomUUID().toString().substring(0, 8);
        try {
            Corpus.write(corpus, items.documents());
            Queries.write(queries, items.queries());
            List<JsonNode> ingest =
                    peer.run(List.of("ingest", "--corpus", corpus.toString(), "--table", table, "--model", model));
            JsonNode ingested = ingest.get(ingest.size() - 1);
            List<List<String>> rankings = Rankings.peer(
                    items.queries(),
                    peer.run(List.of(
                            "search",
                            "--table",
                            table,
                            "--queries",
                            queries.toString(),
                            "--model",
                            model,
                            "--k",
                            Integer.toString(Retrieval.K))));
            return new Row(
                    "LangChain4j " + model + ", recursive(1000, 100) characters, title",
                    PEER_MODE,
                    ingested.path("documents").asLong(),
                    ingested.path("segments").asLong(),
                    rankings,
                    Retrieval.score(rankings, expected(items)),
                    ingested.path("seconds").asDouble(),
                    load);
        } finally {
            BenchmarkDatabase.execute(DatabaseUrl.parse(rawUrl).url().orElseThrow(), "drop table if exists " + table);
            Files.deleteIfExists(corpus);
            Files.deleteIfExists(queries);
            Files.deleteIfExists(dir);
        }
    }

    private static List<String> expected(KnownItems items) {
        return items.queries().stream().map(KnownItemQuery::id).toList();
    }

    /** Prints {@code row}, with its paired difference from {@code baseline} (none: null or itself); returns it. */
    private static Row print(Row row, Row baseline) {
        Retrieval.Scores s = row.scores();
        String difference = "—";
        if (baseline != null && baseline != row) {
            Retrieval.Difference d = Retrieval.difference(s, baseline.scores());
            difference = String.format(
                    Locale.ROOT, "%+.3f ± %.3f%s", d.mean(), d.margin(), d.significant() ? " (significant)" : "");
        }
        System.out.printf(
                Locale.ROOT,
                "| %s | %s | %d | %d | %d | %.3f ± %.3f | %s | %.3f | %.3f | %.1f | %s |%n",
                row.setting(),
                row.mode(),
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
}
