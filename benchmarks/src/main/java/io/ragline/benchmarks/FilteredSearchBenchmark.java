package io.ragline.benchmarks;

import io.ragline.benchmarks.filtered.Cell;
import io.ragline.benchmarks.filtered.ChunkSearch;
import io.ragline.benchmarks.filtered.ClusteredVectors;
import io.ragline.benchmarks.filtered.SyntheticCollection;
import io.ragline.benchmarks.filtered.Variant;
import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Migrations;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.testkit.TestServices;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Filtered and unfiltered vector search at scale, for each index type and vector storage a
 * collection can have (issue 19): {@code N} chunks of 384 dimensions ({@link ClusteredVectors}: a
 * seeded generator with the cluster structure of sentence embeddings), 4 per document, the
 * documents' metadata such that one tenant's filter ({@code {"tenant": "t7"}}) matches 1 % of them.
 *
 * <p>Each {@link Variant} (HNSW or IVFFlat, {@code vector} or {@code halfvec}, cosine) is a
 * collection created by {@link CollectionRegistry#create} with those settings and loaded with the
 * same vectors ({@link SyntheticCollection}). Each query is then asked of every variant, filtered
 * (a different tenant per query) and not, through {@code search_documents} as users search (vector
 * mode, one row per chunk, k = 10), in an order shuffled per query so the machine's noise falls on
 * every variant alike; a warm-up pass comes first. The truth is the exact search ({@link
 * ChunkSearch#exact}: every vector compared, the same cosine distance), computed once per query
 * and filter. Prints a Markdown row per variant and filter: results of length k, recall@10 (mean,
 * lowest), p50 and p99 latency over one JDBC connection per variant.
 *
 * <p>{@code ./mvnw -q -pl benchmarks exec:java -Dexec.mainClass=io.ragline.benchmarks.FilteredSearchBenchmark
 * -Dexec.args="--vectors 200000"}; options: {@code --vectors N} (200,000), {@code --queries Q}
 * (200), {@code --warm-up W} (20), {@code --k K} (10), {@code --seed S} (19), {@code --variants
 * hnsw/vector,...} (all four), {@code --build after-load|at-create} ({@link
 * SyntheticCollection.Build}; after-load).
 */
public final class FilteredSearchBenchmark {
    /** Chunks per document: documents of a few chunks, as the pipeline cuts them. */
    public static final int CHUNKS_PER_DOCUMENT = 4;

    public static final int DIMENSIONS = 384;

    /** Queries asked again per cell to see which plan served it. */
    private static final int PROBES = 20;

    private FilteredSearchBenchmark() {}

    /** What one run is asked to measure. */
    public record Options(
            int vectors,
            int queries,
            int warmUp,
            int k,
            long seed,
            List<Variant> variants,
            SyntheticCollection.Build build) {

        public static Options parse(String[] args) {
            int vectors = 200_000;
            int queries = 200;
            int warmUp = 20;
            int k = 10;
            long seed = 19;
            List<Variant> variants = Variant.all();
            SyntheticCollection.Build build = SyntheticCollection.Build.AFTER_LOAD;
            if (args.length % 2 != 0) {
                throw new IllegalArgumentException("option " + args[args.length - 1] + " has no value");
            }
            for (int i = 0; i < args.length; i += 2) {
                String v = args[i + 1];
                switch (args[i]) {
                    case "--vectors" -> vectors = Integer.parseInt(v);
                    case "--queries" -> queries = Integer.parseInt(v);
                    case "--warm-up" -> warmUp = Integer.parseInt(v);
                    case "--k" -> k = Integer.parseInt(v);
                    case "--seed" -> seed = Long.parseLong(v);
                    case "--variants" ->
                        variants =
                                Arrays.stream(v.split(",")).map(Variant::parse).toList();
                    case "--build" ->
                        build = SyntheticCollection.Build.valueOf(
                                v.toUpperCase(Locale.ROOT).replace('-', '_'));
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            return new Options(vectors, queries, warmUp, k, seed, variants, build);
        }
    }

    /** The loaded variants and, per variant and filter, what the queries measured. */
    public record Result(List<SyntheticCollection.Loaded> loaded, List<Cell> cells) {}

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        DatabaseUrl url =
                DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
        try (Connection c = BenchmarkDatabase.connect(url)) {
            System.out.printf(
                    Locale.ROOT,
                    "%s; load average %s; %,d vectors of %d dimensions, %d per document, %d queries (%d warm-up),"
                            + " k = %d, seed %d, index built %s%n",
                    Machine.describe(c),
                    Machine.loadAverage(),
                    o.vectors(),
                    DIMENSIONS,
                    CHUNKS_PER_DOCUMENT,
                    o.queries(),
                    o.warmUp(),
                    o.k(),
                    o.seed(),
                    o.build().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        Result r = run(url, o);
        print(r, o.k());
        System.out.println("load average after: " + Machine.loadAverage());
    }

    /** Loads every variant into a fresh schema, measures, drops the schema. */
    public static Result run(DatabaseUrl url, Options o) throws Exception {
        String schema = "bench_" + Long.toString(System.nanoTime(), 36);
        new Migrations(url, schema, "bench").migrate();
        try {
            return measure(url, schema, o);
        } finally {
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
        }
    }

    private static Result measure(DatabaseUrl url, String schema, Options o) throws Exception {
        ClusteredVectors vectors = new ClusteredVectors(DIMENSIONS, 50, 20, o.seed());
        CollectionRegistry registry = new CollectionRegistry(ModelCatalog.bundled());
        List<SyntheticCollection.Loaded> loaded = new ArrayList<>();
        List<List<String>> exactAll = new ArrayList<>();
        List<List<String>> exactFiltered = new ArrayList<>();
        try (Connection c = connect(url, schema)) {
            c.setAutoCommit(false);
            for (Variant v : o.variants()) {
                SyntheticCollection.Loaded l = SyntheticCollection.load(
                        c,
                        registry,
                        v.collection(),
                        v.settings(),
                        vectors,
                        o.vectors() / CHUNKS_PER_DOCUMENT,
                        CHUNKS_PER_DOCUMENT,
                        o.build());
                loaded.add(l);
                System.out.printf(
                        Locale.ROOT,
                        "loaded %s: %.1f s, index %s built in %.1f s, %,d MB; load average %s%n",
                        v,
                        l.loadSeconds(),
                        l.index(),
                        l.buildSeconds(),
                        l.indexBytes() >> 20,
                        Machine.loadAverage());
                if (exactAll.isEmpty()) { // every variant holds the same vectors: the truth once, on the first
                    c.setAutoCommit(true);
                    for (int q = 0; q < o.queries(); q++) {
                        float[] query = vectors.query(q);
                        int id = l.collection().id();
                        exactAll.add(ChunkSearch.exact(c, id, query, o.k(), "{}"));
                        exactFiltered.add(ChunkSearch.exact(c, id, query, o.k(), SyntheticCollection.tenantFilter(q)));
                    }
                    c.setAutoCommit(false);
                }
            }
        }
        List<Cell> cells = rounds(url, schema, o, vectors, exactAll, exactFiltered);
        countIndexScans(url, schema, o, vectors, loaded, cells);
        return new Result(loaded, cells);
    }

    /**
     * The warm-up, then every query asked of every variant, filtered and not, in an order shuffled
     * per query; one connection per variant (autocommit, as a pool hands them out).
     */
    private static List<Cell> rounds(
            DatabaseUrl url,
            String schema,
            Options o,
            ClusteredVectors vectors,
            List<List<String>> exactAll,
            List<List<String>> exactFiltered)
            throws Exception {
        List<Cell> cells = new ArrayList<>();
        List<Connection> connections = new ArrayList<>();
        try {
            for (Variant v : o.variants()) {
                connections.add(connect(url, schema));
                cells.add(new Cell(v.toString(), false, o.k()));
                cells.add(new Cell(v.toString(), true, o.k()));
            }
            Random order = new Random(o.seed());
            List<Integer> turns = new ArrayList<>();
            for (int i = 0; i < cells.size(); i++) {
                turns.add(i);
            }
            for (int q = -o.warmUp(); q < o.queries(); q++) {
                java.util.Collections.shuffle(turns, order);
                int query = Math.floorMod(q, o.queries()); // the warm-up asks queries of the run, measured later
                for (int turn : turns) {
                    Cell cell = cells.get(turn);
                    Variant v = o.variants().get(turn / 2);
                    String filter = cell.filtered() ? SyntheticCollection.tenantFilter(query) : "{}";
                    long start = System.nanoTime();
                    List<String> found = ChunkSearch.search(
                            connections.get(turn / 2), v.collection(), vectors.query(query), o.k(), filter);
                    long nanos = System.nanoTime() - start;
                    if (q >= 0) {
                        List<String> exact = (cell.filtered() ? exactFiltered : exactAll).get(query);
                        cell.add(nanos, found.size(), ChunkSearch.recall(found, exact));
                    }
                }
            }
            return cells;
        } finally {
            for (Connection c : connections) {
                c.close();
            }
        }
    }

    /**
     * Which plan served each cell: the vector index's scans per search over {@link #PROBES} of its
     * queries asked again (a filter the planner answers from the metadata index and an exact sort
     * would show 0, and its recall would not be the index's).
     */
    private static void countIndexScans(
            DatabaseUrl url,
            String schema,
            Options o,
            ClusteredVectors vectors,
            List<SyntheticCollection.Loaded> loaded,
            List<Cell> cells)
            throws Exception {
        int probes = Math.min(PROBES, o.queries());
        try (Connection c = connect(url, schema)) {
            for (int turn = 0; turn < cells.size(); turn++) {
                Cell cell = cells.get(turn);
                Variant v = o.variants().get(turn / 2);
                long scans = ChunkSearch.indexScans(c, loaded.get(turn / 2).index(), () -> {
                    for (int q = 0; q < probes; q++) {
                        String filter = cell.filtered() ? SyntheticCollection.tenantFilter(q) : "{}";
                        ChunkSearch.search(c, v.collection(), vectors.query(q), o.k(), filter);
                    }
                });
                cell.indexScansPerSearch(scans / (double) probes);
            }
        }
    }

    private static Connection connect(DatabaseUrl url, String schema) throws Exception {
        Connection c = BenchmarkDatabase.connect(url);
        try (Statement s = c.createStatement()) {
            s.execute("set search_path = " + schema + ", public");
        }
        return c;
    }

    private static void print(Result r, int k) {
        System.out.println("| index | storage | filter | queries | answers of k = " + k + " | recall@" + k
                + " mean | recall@" + k + " lowest | p50 ms | p99 ms | vector index scans per search |");
        System.out.println("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (Cell cell : r.cells()) {
            String[] v = cell.variant().split("/");
            System.out.printf(
                    Locale.ROOT,
                    "| %s | %s | %s | %d | %d of %d (shortest %d) | %.3f | %.1f | %.2f | %.2f | %.2f |%n",
                    v[0],
                    v[1],
                    cell.filtered() ? "1 % (one tenant)" : "none",
                    cell.queries(),
                    cell.queries() - cell.shortAnswers(),
                    cell.queries(),
                    cell.minLength(),
                    cell.meanRecall(),
                    cell.minRecall(),
                    cell.p50Millis(),
                    cell.p99Millis(),
                    cell.indexScansPerSearch());
        }
    }
}
