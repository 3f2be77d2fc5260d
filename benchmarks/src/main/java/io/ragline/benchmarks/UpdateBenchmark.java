package io.ragline.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.contracts.Topic;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.Migrations;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.ingest.IngestWorker;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.ParagraphCorpus;
import io.ragline.testkit.ParagraphCorpus.Document;
import io.ragline.testkit.TestServices;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

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
 * -Dexec.args="100 20 2 256"} (documents, paragraphs, replaced, chunk size in tokens; overlap is an
 * eighth of it).
 */
public final class UpdateBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    private UpdateBenchmark() {}

    public static void main(String[] args) throws Exception {
        int documents = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        int paragraphs = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int replaced = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int chunkSize = args.length > 3 ? Integer.parseInt(args[3]) : 256;
        String rawUrl = TestServices.get().databaseUrl();
        DatabaseUrl url = DatabaseUrl.parse(rawUrl).url().orElseThrow();
        String schema = "bench_" + Long.toString(System.nanoTime(), 36);
        new Migrations(url, schema, "bench").migrate();
        BenchmarkDatabase.execute(
                url,
                "update " + schema + ".collections set chunk_size_tokens = " + chunkSize + ", chunk_overlap_tokens = "
                        + chunkSize / 8 + " where name = 'default'");
        String prefix = "upd" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Env env = env(rawUrl, schema, prefix);
        var dispatcher = EventDispatcher.wiring(env);
        var ingest = IngestWorker.wiring(env, 0);
        var embedding = EmbeddingWorker.wiring(env, "RAGLINE_SEARCH_PORT", 0);
        env.validate();
        printSetup(documents, paragraphs, replaced, chunkSize);
        ParagraphCorpus corpus = ParagraphCorpus.licences();
        List<Document> first = corpus.documents("doc-", documents, paragraphs, 17);
        try (WorkerRuntime runtime = WorkerRuntime.start("update-bench", 0, env);
                KafkaProducer<String, String> producer = KafkaTopics.producer();
                Connection c = BenchmarkDatabase.connect(url)) {
            dispatcher.accept(runtime);
            ingest.accept(runtime);
            embedding.accept(runtime);
            Round warmUp = round(producer, c, prefix, schema, corpus.documents("warm-", 5, paragraphs, 3), 1);
            System.out.printf(Locale.ROOT, "warm-up: 5 documents in %.1f s%n", warmUp.seconds);
            double warmed = vectors(runtime, "computed");
            Round ingested = round(producer, c, prefix, schema, first, 1);
            String chunksSql = "select count(*) from " + schema + ".chunks ch join " + schema + ".documents d on d.id"
                    + " = ch.document_id where d.external_id like 'doc-%'";
            long firstChunks = count(c, chunksSql);
            double computed = vectors(runtime, "computed");
            double reused = vectors(runtime, "reused");
            List<Document> edited = first.stream()
                    .map(d -> corpus.edited(d, replaced, d.id().hashCode()))
                    .toList();
            Round updated = round(producer, c, prefix, schema, edited, 2);
            long chunks = count(c, chunksSql);
            long again = count(
                    c,
                    "select count(*) from " + schema + ".chunk_embeddings e join " + schema + ".chunks"
                            + " ch on ch.id = e.chunk_id join " + schema + ".documents d on d.id = ch.document_id where"
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
                    vectors(runtime, "computed") - computed,
                    vectors(runtime, "reused") - reused,
                    updated.seconds,
                    100 * updated.seconds / ingested.seconds);
        } finally {
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
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

    /** The benchmark's own schema, topics and ports over the {@code RAGLINE_*} settings to compare. */
    private static Env env(String rawUrl, String schema, String prefix) {
        Map<String, String> values = new HashMap<>();
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("RAGLINE_")) {
                values.put(k, v);
            }
        });
        values.put("DATABASE_URL", rawUrl);
        values.put("KAFKA_BOOTSTRAP_SERVERS", KafkaTopics.bootstrapServers());
        values.put("RAGLINE_DB_SCHEMA", schema);
        values.put("RAGLINE_TOPIC_PREFIX", prefix);
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.put("RAGLINE_HTTP_PORT", "0");
        values.put("RAGLINE_SEARCH_PORT", "0");
        values.put("RAGLINE_HTTP_HOST", "127.0.0.1");
        return new Env(values);
    }

    /** When a round started (the database's clock) and how long until its last document was embedded. */
    private record Round(Timestamp start, double seconds) {}

    /** Publishes {@code documents} as {@code version} and waits until all are embedded at it. */
    private static Round round(
            KafkaProducer<String, String> producer,
            Connection c,
            String prefix,
            String schema,
            List<Document> documents,
            long version)
            throws Exception {
        Timestamp start;
        try (ResultSet rs = c.createStatement().executeQuery("select clock_timestamp()")) {
            rs.next();
            start = rs.getTimestamp(1);
        }
        for (Document d : documents) {
            String doc = JSON.createObjectNode()
                    .put("op", "upsert")
                    .put("id", d.id())
                    .put("title", d.id())
                    .put("content", d.text())
                    .put("version", version)
                    .toString();
            producer.send(new ProducerRecord<>(prefix + Topic.DOCUMENTS.topic(), "default/" + d.id(), doc));
        }
        producer.flush();
        String ids =
                "'" + String.join("','", documents.stream().map(Document::id).toList()) + "'";
        String done = "select count(*) from " + schema + ".documents where external_id in (" + ids + ") and status ="
                + " 'embedded' and version = " + version;
        while (count(c, done) < documents.size()) {
            Thread.sleep(20);
        }
        try (ResultSet rs = c.createStatement()
                .executeQuery("select extract(epoch from max(embedded_at) - '" + start + "') from " + schema
                        + ".documents where external_id in (" + ids + ")")) {
            rs.next();
            return new Round(start, rs.getDouble(1));
        }
    }

    private static double vectors(WorkerRuntime runtime, String outcome) {
        return runtime.registry()
                .get("ragline.embedding.vectors")
                .tag("outcome", outcome)
                .counter()
                .count();
    }

    private static long count(Connection c, String sql) throws Exception {
        try (ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
