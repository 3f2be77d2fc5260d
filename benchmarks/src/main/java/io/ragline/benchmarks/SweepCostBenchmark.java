package io.ragline.benchmarks;

import io.ragline.benchmarks.filtered.ClusteredVectors;
import io.ragline.benchmarks.filtered.SyntheticCollection;
import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.collections.CollectionSettings;
import io.ragline.core.collections.GenerationSweep;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Migrations;
import io.ragline.embedding.migration.MigrationSwitcher;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;

/**
 * What the embedding-worker's self-healing sweep ({@link GenerationSweep}, every 30 s per worker
 * for each collection with a building or kept generation) costs the database on a large
 * collection, in its commonest state: a migration finished, the old generation kept (until {@code
 * collections prune}), nothing owed, so a pass reads every embedded document of the collection and
 * finds nothing. A synthetic collection ({@link SyntheticCollection}: documents of 4 chunks, no
 * vector index, which the sweep never reads) gets a second, kept generation with a vector for
 * every chunk, and is vacuumed (as autovacuum would have); then the sweep runs {@code repeats} times, each in a transaction rolled back, and its
 * statement's time is reported (median and slowest), with the plan of the last run.
 *
 * <p>{@code java -cp ... io.ragline.benchmarks.SweepCostBenchmark 20000,100000,200000 5} (vectors
 * per collection, a comma-separated list; repeats; {@code keep} to leave the schemas for a look at the
 * plan).
 */
public final class SweepCostBenchmark {
    private static final int CHUNKS_PER_DOCUMENT = 4;

    private SweepCostBenchmark() {}

    public static void main(String[] args) throws Exception {
        int[] sizes = Arrays.stream((args.length > 0 ? args[0] : "20000,100000").split(","))
                .mapToInt(Integer::parseInt)
                .toArray();
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        boolean keep = args.length > 2 && args[2].equals("keep"); // leaves the schemas, for EXPLAIN by hand
        DatabaseUrl url =
                DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
        try (Connection c = BenchmarkDatabase.connect(url)) {
            System.out.printf(
                    Locale.ROOT,
                    "%s; load average %s; sweep limit %d documents, every %s per worker%n",
                    Machine.describe(c),
                    Machine.loadAverage(),
                    GenerationSweep.LIMIT,
                    MigrationSwitcher.SWEEP_EVERY);
        }
        System.out.println("| vectors per generation | documents | kept generation | sweep median ms | slowest ms"
                + " | documents asked | next pass after (all workers) |");
        System.out.println("|---:|---:|---|---:|---:|---:|---:|");
        for (int vectors : sizes) {
            String schema = "bench_" + Long.toString(System.nanoTime(), 36);
            new Migrations(url, schema, "bench").migrate();
            try (Connection c = BenchmarkDatabase.connect(url)) {
                try (Statement s = c.createStatement()) {
                    s.execute("set search_path = " + schema + ", public");
                }
                c.setAutoCommit(false);
                measure(c, vectors, repeats);
            } finally {
                if (keep) {
                    System.out.println("schema kept: " + schema);
                } else {
                    BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
                }
            }
        }
        System.out.println("load average after: " + Machine.loadAverage());
    }

    private static void measure(Connection c, int vectors, int repeats) throws Exception {
        int documents = vectors / CHUNKS_PER_DOCUMENT;
        SyntheticCollection.Loaded l = SyntheticCollection.load(
                c,
                new CollectionRegistry(ModelCatalog.bundled()),
                "sweep",
                new CollectionSettings(null, null, null, null, null, null),
                new ClusteredVectors(384, 50, 20, 17),
                documents,
                CHUNKS_PER_DOCUMENT,
                SyntheticCollection.Build.NONE);
        int id = l.collection().id();
        keepSecondGeneration(c, id);
        double[] millis = new double[repeats];
        int asked = -1;
        for (int i = 0; i < repeats; i++) {
            long start = System.nanoTime();
            OptionalInt n = GenerationSweep.sweep(c, id, GenerationSweep.LIMIT, MigrationSwitcher.SWEEP_AFTER);
            millis[i] = (System.nanoTime() - start) / 1e6;
            asked = n.orElse(-1);
            c.rollback();
        }
        double[] sorted = millis.clone();
        Arrays.sort(sorted);
        System.out.printf(
                Locale.ROOT,
                "| %,d | %,d | complete, nothing owed | %.1f | %.1f | %d | %.1f s |%n",
                vectors,
                documents,
                sorted[repeats / 2],
                sorted[repeats - 1],
                asked,
                new GenerationSweep.Pace(MigrationSwitcher.SWEEP_EVERY, GenerationSweep.SPACING)
                                .after(Duration.ofNanos((long) (sorted[repeats / 2] * 1e6)), false)
                                .toMillis()
                        / 1000.0);
        c.rollback();
    }

    /** Makes generation 2 of collection {@code id} a kept one (a migration switched back, or before it) with every vector. */
    private static void keepSecondGeneration(Connection c, int id) throws Exception {
        try (PreparedStatement s = c.prepareStatement("insert into collection_generations (collection_id, generation,"
                + " embedding_provider, embedding_model, dimensions, state, created_at) select collection_id, 2,"
                + " embedding_provider, embedding_model, dimensions, 'kept', now() - interval '1 day' from"
                + " collection_generations where collection_id = ? and generation = 1")) {
            s.setInt(1, id);
            s.executeUpdate();
        }
        List<String> columns = new ArrayList<>();
        try (ResultSet rs = c.createStatement()
                .executeQuery("select column_name from information_schema.columns where table_schema ="
                        + " current_schema() and table_name = 'chunk_embeddings' and column_name <> 'generation'"
                        + " and is_generated = 'NEVER' order by ordinal_position")) {
            while (rs.next()) {
                columns.add(rs.getString(1));
            }
        }
        String list = String.join(", ", columns);
        try (PreparedStatement s = c.prepareStatement("insert into chunk_embeddings (" + list + ", generation) select "
                + list + ", 2 from chunk_embeddings where collection_id = ? and generation = 1")) {
            s.setInt(1, id);
            s.executeUpdate();
        }
        c.commit();
        // The steady state: autovacuum has marked the pages all-visible, so the sweep's index-only
        // probes skip the heap (a fresh, unvacuumed load measured about twice as slow).
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
            for (String table : List.of("documents", "chunks", "chunk_embeddings", "collection_generations")) {
                s.execute("vacuum analyze " + table);
            }
        }
        c.setAutoCommit(false);
    }
}
