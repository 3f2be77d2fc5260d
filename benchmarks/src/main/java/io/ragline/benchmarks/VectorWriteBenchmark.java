package io.ragline.benchmarks;

import com.pgvector.PGvector;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Migrations;
import io.ragline.embedding.request.VectorWriter;
import io.ragline.testkit.TestServices;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Vector writes into {@code chunk_embeddings} (384 dimensions) for chunks of real width: the
 * embedding-worker's path (one binary {@code COPY} per batch, {@link VectorWriter}) against a JDBC
 * batch of {@code INSERT ... VALUES (?, ?, ?::vector, ?)} in text form, each with and without the
 * collection's HNSW index (an index makes every write an index insertion). With a fourth argument,
 * {@code rounds}, it compares instead the binary {@code COPY} with a JDBC batch whose vector is a
 * pgvector-java {@link PGvector} parameter, without the index, in interleaved rounds (the order
 * alternating), and prints each round's rates and the ratio's median and range.
 *
 * <p>{@code ./mvnw -q -pl benchmarks exec:java -Dexec.mainClass=io.ragline.benchmarks.VectorWriteBenchmark
 * -Dexec.args="50000 500 5000"}, or {@code -Dexec.args="20000 500 0 7"} for the rounds.
 */
public final class VectorWriteBenchmark {
    private static final int DIMENSIONS = 384;

    /** About 1,000 characters per chunk, as a 200-token chunk has: rows as wide as real ones. */
    private static final String CHUNK_TEXT =
            "(select string_agg(md5((d.id * 10 + n + g)::text), ' ') from generate_series(1, 30) g)";

    private VectorWriteBenchmark() {}

    public static void main(String[] args) throws Exception {
        int allRows = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        // Every vector is an HNSW insertion of milliseconds: fewer rows measure that rate as well.
        int indexedRows = args.length > 2 ? Integer.parseInt(args[2]) : 5_000;
        DatabaseUrl url =
                DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
        if (args.length > 3) {
            interleaved(url, allRows, batch, Integer.parseInt(args[3]));
            return;
        }
        System.out.printf(
                Locale.ROOT,
                "%d cores, %,d vectors of %d dimensions (%,d with the index), batches of %d%n",
                Runtime.getRuntime().availableProcessors(),
                allRows,
                DIMENSIONS,
                Math.min(indexedRows, allRows),
                batch);
        System.out.println("| path | HNSW index | vectors/s |");
        System.out.println("|---|---|---:|");
        for (boolean index : new boolean[] {false, true}) {
            int rows = index ? Math.min(indexedRows, allRows) : allRows;
            if (rows == 0) {
                continue;
            }
            for (String path : new String[] {"binary COPY", "batched INSERT (text)"}) {
                String schema = "bench_" + Long.toString(System.nanoTime(), 36);
                new Migrations(url, schema, "bench").migrate();
                List<Long> ids = prepare(url, schema, rows, index);
                List<float[]> vectors = vectors(rows);
                long start = System.nanoTime();
                writeAll(
                        url,
                        schema,
                        ids,
                        vectors,
                        batch,
                        path.startsWith("binary") ? VectorWriteBenchmark::copy : VectorWriteBenchmark::textInsert);
                double s = (System.nanoTime() - start) / 1e9;
                System.out.printf(Locale.ROOT, "| %s | %s | %,.0f |%n", path, index ? "yes" : "no", rows / s);
                BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
            }
        }
    }

    /** Binary COPY against PGvector-parameter batches, alternating which goes first, {@code rounds} times. */
    private static void interleaved(DatabaseUrl url, int rows, int batch, int rounds) throws Exception {
        System.out.printf(
                Locale.ROOT,
                "%d cores, %,d vectors of %d dimensions, batches of %d, no index, %d interleaved rounds%n",
                Runtime.getRuntime().availableProcessors(),
                rows,
                DIMENSIONS,
                batch,
                rounds);
        System.out.println("| round | binary COPY vectors/s | PGvector batch vectors/s | COPY / PGvector |");
        System.out.println("|---:|---:|---:|---:|");
        List<Double> ratios = new ArrayList<>();
        List<float[]> vectors = vectors(rows);
        for (int round = 1; round <= rounds; round++) {
            double copy = 0;
            double pg = 0;
            for (int i = 0; i < 2; i++) {
                boolean binary = (round + i) % 2 == 0;
                double rate = rate(url, rows, batch, vectors, binary ? "binary COPY" : "batched INSERT (PGvector)");
                if (binary) {
                    copy = rate;
                } else {
                    pg = rate;
                }
            }
            ratios.add(copy / pg);
            System.out.printf(Locale.ROOT, "| %d | %,.0f | %,.0f | %.2f |%n", round, copy, pg, copy / pg);
        }
        List<Double> sorted = new ArrayList<>(ratios);
        sorted.sort(Double::compare);
        System.out.printf(
                Locale.ROOT,
                "COPY / PGvector: median %.2f, range %.2f-%.2f%n",
                sorted.get(sorted.size() / 2),
                sorted.get(0),
                sorted.get(sorted.size() - 1));
    }

    /** Vectors per second of one path on a fresh schema without the index. */
    private static double rate(DatabaseUrl url, int rows, int batch, List<float[]> vectors, String path)
            throws Exception {
        String schema = "bench_" + Long.toString(System.nanoTime(), 36);
        new Migrations(url, schema, "bench").migrate();
        try {
            List<Long> ids = prepare(url, schema, rows, false);
            long start = System.nanoTime();
            writeAll(
                    url,
                    schema,
                    ids,
                    vectors,
                    batch,
                    path.startsWith("binary") ? VectorWriteBenchmark::copy : VectorWriteBenchmark::pgvectorInsert);
            return rows / ((System.nanoTime() - start) / 1e9);
        } finally {
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
        }
    }

    /** One way of writing a batch of vectors for existing chunks. */
    private interface BatchWrite {
        void write(Connection c, List<Long> ids, List<float[]> vectors) throws Exception;
    }

    /** Writes every vector in batches of {@code batch}, one transaction each. */
    private static void writeAll(
            DatabaseUrl url, String schema, List<Long> ids, List<float[]> vectors, int batch, BatchWrite path)
            throws Exception {
        try (Connection c = connect(url, schema)) {
            c.setAutoCommit(false);
            for (int at = 0; at < ids.size(); at += batch) {
                int end = Math.min(ids.size(), at + batch);
                path.write(c, ids.subList(at, end), vectors.subList(at, end));
                c.commit();
            }
        }
    }

    private static void copy(Connection c, List<Long> ids, List<float[]> vectors) throws Exception {
        VectorWriter.write(c, 1, ids, vectors, "bench");
    }

    private static void pgvectorInsert(Connection c, List<Long> ids, List<float[]> vectors) throws Exception {
        try (PreparedStatement s = c.prepareStatement("insert into chunk_embeddings (chunk_id, collection_id,"
                + " embedding, model) values (?, 1, ?, 'bench')")) {
            for (int i = 0; i < ids.size(); i++) {
                s.setLong(1, ids.get(i));
                s.setObject(2, new PGvector(vectors.get(i)));
                s.addBatch();
            }
            s.executeBatch();
        }
    }

    private static Connection connect(DatabaseUrl url, String schema) throws Exception {
        Connection c = BenchmarkDatabase.connect(url);
        try (var s = c.createStatement()) {
            s.execute("set search_path = " + schema + ", public");
        }
        return c;
    }

    /** A collection of 384 dimensions (with or without its index) and {@code rows} chunks without vectors. */
    private static List<Long> prepare(DatabaseUrl url, String schema, int rows, boolean index) throws Exception {
        try (Connection c = connect(url, schema);
                var s = c.createStatement()) {
            s.execute("insert into documents (collection_id, external_id) select 1, 'd' || n from"
                    + " generate_series(1, " + (rows / 10 + 1) + ") n");
            s.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select d.id, 1, 0, n, " + CHUNK_TEXT + ", 200 from documents d, generate_series(0, 9) n");
            if (!index) {
                s.execute("do $$ begin execute format('drop index %I', collection_index_name(1)); end $$");
            }
            List<Long> ids = new ArrayList<>(rows);
            try (var rs = s.executeQuery("select id from chunks order by id limit " + rows)) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
            return ids;
        }
    }

    private static List<float[]> vectors(int rows) {
        Random random = new Random(42);
        List<float[]> out = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            float[] v = new float[DIMENSIONS];
            for (int d = 0; d < DIMENSIONS; d++) {
                v[d] = (float) random.nextGaussian();
            }
            out.add(v);
        }
        return out;
    }

    private static void textInsert(Connection c, List<Long> ids, List<float[]> vectors) throws Exception {
        try (PreparedStatement s = c.prepareStatement("insert into chunk_embeddings (chunk_id, collection_id,"
                + " embedding, model) values (?, 1, ?::vector, 'bench')")) {
            for (int i = 0; i < ids.size(); i++) {
                s.setLong(1, ids.get(i));
                s.setString(2, Arrays.toString(vectors.get(i)));
                s.addBatch();
            }
            s.executeBatch();
        }
    }
}
