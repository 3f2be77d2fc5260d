package io.ragline.benchmarks;

import io.ragline.core.collections.CollectionMigrations;
import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.collections.CollectionSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Migrations;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What the embedding-worker's search for the documents a new chunking lacks ({@code chunking_owed},
 * run by the migration switcher's checks during a migration to another chunk size) costs the
 * database, before V35 and after it, on synthetic collections of one chunk per document:
 *
 * <ul>
 *   <li><b>the cut</b>: the whole collection found in batches of 100, each batch's documents then
 *       given a chunk of the new chunking (as the worker's cut would; the chunker's own work is left
 *       out): from the first document every time (V34's {@code chunking_owed(c, 100)}, created again as {@code v34_chunking_owed}) against a
 *       walk from the last document given ({@code chunking_owed(c, from, 100)}, V35), interleaved,
 *       each in a transaction rolled back; the statements' time in all;
 *   <li><b>nothing owed</b>: every document cut, one search from the first document, what each 2 s
 *       check cost before V35 (now once per walk, at the sweep's pace).
 * </ul>
 *
 * <p>{@code java -cp ... io.ragline.benchmarks.RechunkWalkBenchmark 5000,20000 2 100000} (documents
 * for the cut, comma-separated; rounds; documents for the search when nothing is owed).
 */
public final class RechunkWalkBenchmark {
    private static final int BATCH = 100;

    private RechunkWalkBenchmark() {}

    public static void main(String[] args) throws Exception {
        int[] sizes = Arrays.stream((args.length > 0 ? args[0] : "5000,20000").split(","))
                .mapToInt(Integer::parseInt)
                .toArray();
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int[] idle = Arrays.stream((args.length > 2 ? args[2] : "20000,100000").split(","))
                .mapToInt(Integer::parseInt)
                .toArray();
        DatabaseUrl url =
                DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
        try (Connection c = BenchmarkDatabase.connect(url)) {
            System.out.printf(
                    Locale.ROOT,
                    "%s; load average %s; batches of %d%n",
                    Machine.describe(c),
                    Machine.loadAverage(),
                    BATCH);
        }
        System.out.println(
                "| documents | round | V34, from the first document: statements, ms | V35, a walk: statements, ms |"
                        + " V34 / V35 |");
        System.out.println("|---:|---:|---|---|---:|");
        for (int n : sizes) {
            inSchema(url, n, c -> {
                for (int round = 1; round <= rounds; round++) {
                    // interleaved: the walk first in even rounds
                    long[] first;
                    long[] walk;
                    if (round % 2 == 0) {
                        walk = cut(c, true);
                        c.rollback();
                        first = cut(c, false);
                        c.rollback();
                    } else {
                        first = cut(c, false);
                        c.rollback();
                        walk = cut(c, true);
                        c.rollback();
                    }
                    System.out.printf(
                            Locale.ROOT,
                            "| %,d | %d | %d, %,.0f | %d, %,.0f | %.1f |%n",
                            n,
                            round,
                            first[0],
                            first[1] / 1e6,
                            walk[0],
                            walk[1] / 1e6,
                            (double) first[1] / walk[1]);
                }
            });
        }
        System.out.println();
        System.out.println("| documents, all cut | V34: one search (each check), ms, median of 5 (slowest) | V35: one"
                + " walk (at the pace), ms, median of 5 (slowest) |");
        System.out.println("|---|---:|---:|");
        for (int n : idle) {
            inSchema(url, n, c -> {
                cut(c, true);
                c.commit(); // every document has its new chunk
                List<Long> before = new ArrayList<>();
                List<Long> after = new ArrayList<>();
                for (int i = 0; i < 5; i++) { // interleaved
                    for (boolean walk : new boolean[] {i % 2 == 0, i % 2 != 0}) {
                        long start = System.nanoTime();
                        int found = owed(c, walk);
                        (walk ? after : before).add(System.nanoTime() - start);
                        c.rollback();
                        if (found != 0) {
                            throw new IllegalStateException(found + " documents still owed");
                        }
                    }
                }
                before.sort(null);
                after.sort(null);
                System.out.printf(
                        Locale.ROOT,
                        "| %,d | %,.0f (%,.0f) | %,.0f (%,.0f) |%n",
                        n,
                        before.get(2) / 1e6,
                        before.get(4) / 1e6,
                        after.get(2) / 1e6,
                        after.get(4) / 1e6);
            });
        }
        System.out.println("load average after: " + Machine.loadAverage());
    }

    private interface Measure {
        void run(Connection c) throws Exception;
    }

    /** A schema of its own with collection {@code walk}: n documents of one chunk, a migration to 32 tokens begun. */
    private static void inSchema(DatabaseUrl url, int n, Measure measure) throws Exception {
        String schema = "bench_" + Long.toString(System.nanoTime(), 36);
        new Migrations(url, schema, "bench").migrate();
        try (Connection c = BenchmarkDatabase.connect(url)) {
            try (Statement s = c.createStatement()) {
                s.execute("set search_path = " + schema + ", public");
            }
            int collection = new CollectionRegistry(ModelCatalog.bundled())
                    .create(c, "walk", new CollectionSettings(null, null, null, 128, 16, null))
                    .id();
            try (Statement s = c.createStatement()) {
                s.execute("insert into documents (collection_id, external_id, title, status, version) select "
                        + collection + ", 'd' || g, 'Document ' || g, 'embedded', 1 from generate_series(1, " + n
                        + ") g");
                s.execute("insert into document_texts (document_id, content) select id, 'The text of ' || external_id"
                        + " from documents");
                s.execute("insert into chunks (document_id, collection_id, document_version, seq, content,"
                        + " token_count) select id, collection_id, 1, 0, 'whole', 120 from documents");
            }
            new CollectionMigrations(ModelCatalog.bundled()).migrate(c, "walk", null, null, null, 32, 4);
            try (Statement s = c.createStatement()) {
                s.execute(v34ChunkingOwed(schema));
            }
            try (Statement s = c.createStatement()) {
                s.execute("vacuum analyze documents");
                s.execute("vacuum analyze document_texts");
                s.execute("vacuum analyze chunks");
            }
            c.setAutoCommit(false);
            measure.run(c);
            c.rollback();
        } finally {
            if (System.getenv("RAGLINE_BENCH_KEEP") != null) { // for EXPLAIN by hand
                System.out.println("schema kept: " + schema);
            } else {
                BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
            }
        }
    }

    /**
     * V34's chunking_owed, as its migration created it, under the name {@code v34_chunking_owed}: the
     * "before" (V35 replaced its body with a walk from the first document).
     */
    private static String v34ChunkingOwed(String schema) throws Exception {
        String sql;
        try (var in = Migrations.class.getResourceAsStream("migration/V34__generation_chunkings.sql")) {
            sql = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        String head = "CREATE FUNCTION chunking_owed(p_collection_id integer, p_limit integer)";
        int start = sql.indexOf(head);
        int end = sql.indexOf("$$;", start) + 3;
        if (start < 0 || end < 3) {
            throw new IllegalStateException("V34's chunking_owed not found");
        }
        return sql.substring(start, end)
                .replace(head, "CREATE FUNCTION v34_chunking_owed(p_collection_id integer, p_limit integer)")
                .replace("${schema}", schema);
    }

    /**
     * Finds and cuts (a chunk of chunking 2 each) every document in batches, in the caller's
     * transaction; returns the statements and their nanoseconds.
     */
    private static long[] cut(Connection c, boolean walk) throws Exception {
        long from = 0;
        long statements = 0;
        long nanos = 0;
        List<Long> batch = new ArrayList<>();
        while (true) {
            batch.clear();
            long start = System.nanoTime();
            try (PreparedStatement s = c.prepareStatement(
                    walk
                            ? "select document_id from chunking_owed((select id from collections where name = 'walk'), ?, ?)"
                            : "select document_id from v34_chunking_owed((select id from collections where name = 'walk'), ?)")) {
                if (walk) {
                    s.setLong(1, from);
                    s.setInt(2, BATCH);
                } else {
                    s.setInt(1, BATCH);
                }
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        batch.add(rs.getLong(1));
                    }
                }
            }
            nanos += System.nanoTime() - start;
            statements++;
            if (!batch.isEmpty()) {
                try (PreparedStatement s = c.prepareStatement("insert into chunks (document_id, collection_id,"
                        + " document_version, seq, content, token_count, chunking) select d, (select id from"
                        + " collections where name = 'walk'), 1, 0, 'piece', 30, 2 from unnest(?::bigint[]) d")) {
                    s.setArray(1, c.createArrayOf("bigint", batch.toArray()));
                    s.execute();
                }
                from = batch.get(batch.size() - 1);
            }
            if (batch.size() < BATCH) {
                break;
            }
        }
        return new long[] {statements, nanos};
    }

    /** The documents one search from the first document finds (at most a batch): V34's, or a walk's first. */
    private static int owed(Connection c, boolean walk) throws Exception {
        try (PreparedStatement s = c.prepareStatement(
                walk
                        ? "select count(*) from chunking_owed((select id from collections where name = 'walk'), 0, ?)"
                        : "select count(*) from v34_chunking_owed((select id from collections where name = 'walk'),"
                                + " ?)")) {
            s.setInt(1, BATCH);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
