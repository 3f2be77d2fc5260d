package io.ragline.benchmarks;

import io.ragline.core.collections.CollectionSettings;
import io.ragline.testkit.ParagraphCorpus;
import io.ragline.testkit.ParagraphCorpus.Document;
import java.lang.management.ManagementFactory;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.util.List;
import java.util.Locale;

/**
 * Updates against first ingests: {@code documents} documents of {@code paragraphs} real paragraphs
 * (the licences, {@link ParagraphCorpus}) are published and embedded, then published again with
 * {@code replaced} consecutive paragraphs of each replaced (2 of 20: a tenth of the text). Reports
 * the chunks, how many were embedded again, the vectors computed and reused ({@code
 * ragline.embedding.vectors}), and the time to searchable of each round: from the first send to
 * the last {@code embedded_at}, both read from the database's clock over one connection. The whole
 * pipeline runs in this JVM as {@code ragline all}, warmed up first.
 *
 * <p>{@code ./mvnw -q -pl benchmarks exec:java -Dexec.mainClass=io.ragline.benchmarks.UpdateBenchmark
 * -Dexec.args="100 20 2 128"} (documents, paragraphs, replaced, chunk size in tokens, by default the
 * collections' default; overlap is an eighth of it).
 */
public final class UpdateBenchmark {
    private UpdateBenchmark() {}

    public static void main(String[] args) throws Exception {
        int documents = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        int paragraphs = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int replaced = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int chunkSize = args.length > 3 ? Integer.parseInt(args[3]) : CollectionSettings.DEFAULT_CHUNK_SIZE_TOKENS;
        printSetup(documents, paragraphs, replaced, chunkSize);
        ParagraphCorpus corpus = ParagraphCorpus.licences();
        List<Document> first = corpus.documents("doc-", documents, paragraphs, 17);
        try (RaglinePipeline pipeline = RaglinePipeline.start("update-bench")) {
            String schema = pipeline.schema();
            pipeline.connection()
                    .createStatement()
                    .executeUpdate("update " + schema + ".collections set chunk_size_tokens = " + chunkSize
                            + ", chunk_overlap_tokens = " + chunkSize / 8 + " where name = 'default'");
            Round warmUp = round(pipeline, corpus.documents("warm-", 5, paragraphs, 3), 1);
            System.out.printf(Locale.ROOT, "warm-up: 5 documents in %.1f s%n", warmUp.seconds);
            double warmed = vectors(pipeline, "computed");
            Round ingested = round(pipeline, first, 1);
            String chunksSql = "select count(*) from " + schema + ".chunks ch join " + schema + ".documents d on d.id"
                    + " = ch.document_id where d.external_id like 'doc-%'";
            long firstChunks = pipeline.count(chunksSql);
            double computed = vectors(pipeline, "computed");
            double reused = vectors(pipeline, "reused");
            List<Document> edited = first.stream()
                    .map(d -> corpus.edited(d, replaced, d.id().hashCode()))
                    .toList();
            Round updated = round(pipeline, edited, 2);
            long chunks = pipeline.count(chunksSql);
            long again = pipeline.count("select count(*) from " + schema + ".chunk_embeddings e join " + schema
                    + ".chunks ch on ch.id = e.chunk_id join " + schema + ".documents d on d.id = ch.document_id where"
                    + " d.external_id like 'doc-%' and e.embedded_at >= '" + updated.start + "'");
            System.out.println("| round | documents | chunks | embedded | reused | to searchable |");
            System.out.println("|---|---|---|---|---|---|");
            System.out.printf(
                    Locale.ROOT,
                    "| first ingest | %d | %d | %.0f | 0 | %.2f s |%n",
                    documents,
                    firstChunks,
                    computed - warmed,
                    ingested.seconds);
            System.out.printf(
                    Locale.ROOT,
                    "| update, %d of %d paragraphs replaced | %d | %d | %d (%.1f %%; metric %.0f) | %.0f | %.2f s"
                            + " (%.0f %% of the first) |%n",
                    replaced,
                    paragraphs,
                    documents,
                    chunks,
                    again,
                    100.0 * again / chunks,
                    vectors(pipeline, "computed") - computed,
                    vectors(pipeline, "reused") - reused,
                    updated.seconds,
                    100 * updated.seconds / ingested.seconds);
        }
    }

    private static void printSetup(int documents, int paragraphs, int replaced, int chunkSize) {
        System.out.printf(
                Locale.ROOT,
                "%d cores, load average %.2f at start; %d documents of %d paragraphs, %d replaced, chunks of %d"
                        + " tokens%n",
                Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                documents,
                paragraphs,
                replaced,
                chunkSize);
    }

    /** When a round started (the database's clock) and how long until its last document was embedded. */
    private record Round(Timestamp start, double seconds) {}

    /** Publishes {@code documents} as {@code version} and waits until all are embedded at it. */
    private static Round round(RaglinePipeline pipeline, List<Document> documents, long version) throws Exception {
        Timestamp start;
        try (ResultSet rs = pipeline.connection().createStatement().executeQuery("select clock_timestamp()")) {
            rs.next();
            start = rs.getTimestamp(1);
        }
        for (Document d : documents) {
            pipeline.publish("default", d.id(), d.id(), d.text(), version);
        }
        pipeline.flush();
        String schema = pipeline.schema();
        String ids =
                "'" + String.join("','", documents.stream().map(Document::id).toList()) + "'";
        String done = "select count(*) from " + schema + ".documents where external_id in (" + ids + ") and status ="
                + " 'embedded' and version = " + version;
        while (pipeline.count(done) < documents.size()) {
            Thread.sleep(20);
        }
        try (ResultSet rs = pipeline.connection()
                .createStatement()
                .executeQuery("select extract(epoch from max(embedded_at) - '" + start + "') from " + schema
                        + ".documents where external_id in (" + ids + ")")) {
            rs.next();
            return new Round(start, rs.getDouble(1));
        }
    }

    private static double vectors(RaglinePipeline pipeline, String outcome) {
        return pipeline.runtime()
                .registry()
                .get("ragline.embedding.vectors")
                .tag("outcome", outcome)
                .counter()
                .count();
    }
}
