package io.ragline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.embedding.search.SearchJson;
import io.ragline.embedding.search.SearchMode;
import io.ragline.embedding.search.Searcher;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The load a migration test runs under ({@link ModelMigrationIT}, {@link ChunkSizeMigrationIT}):
 * collection {@code default} searched continuously by the product's {@link Searcher} (every search
 * that fails or finds nothing is a problem) and a new document published every 700 ms, about
 * things far from the licence files' words; and what both tests read: the licence files, each
 * query's hits, the documents embedded.
 */
final class MigrationLoad implements AutoCloseable {
    static final List<String> QUERIES =
            List.of("free software license", "warranty disclaimer", "permission to copy and distribute");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> LIVE_TOPICS = List.of(
            "The ferry leaves the harbour at dawn with crates of apples.",
            "Bakers in the village knead rye dough before sunrise.",
            "The lighthouse keeper paints the railings every spring.",
            "Goats climb the terraced hillside above the olive groves.",
            "A brass band rehearses marches in the town square.",
            "Snow settles on the pine forest along the mountain pass.");

    private final AtomicBoolean searching = new AtomicBoolean(true);
    private final AtomicLong searches = new AtomicLong();
    private final AtomicLong live = new AtomicLong();
    private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    private final Thread load;
    private final ScheduledExecutorService publisher = Executors.newSingleThreadScheduledExecutor();

    /** Starts searching and publishing. */
    MigrationLoad(Searcher searcher, KafkaProducer<String, String> producer, String prefix) {
        load = new Thread(() -> {
            for (int i = 0; searching.get(); i++) {
                String q = QUERIES.get(i % QUERIES.size());
                try {
                    if (searcher.search("default", q, 5, null).isEmpty()) {
                        problems.add("'" + q + "' found nothing");
                    }
                } catch (Exception x) {
                    problems.add("'" + q + "' failed: " + x);
                }
                searches.incrementAndGet();
            }
        });
        load.start();
        publisher.scheduleAtFixedRate(
                () -> {
                    long n = live.get();
                    publish(producer, prefix, "live-" + n, liveText(n));
                    live.incrementAndGet();
                },
                0,
                700,
                TimeUnit.MILLISECONDS);
    }

    /** Searches that failed or found nothing so far. */
    List<String> problems() {
        return List.copyOf(problems);
    }

    long searches() {
        return searches.get();
    }

    /** Documents published by the load so far. */
    long published() {
        return live.get();
    }

    /** Stops publishing (the documents sent are flushed by the caller's producer). */
    void stopPublishing() throws InterruptedException {
        publisher.shutdown();
        if (!publisher.awaitTermination(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the publisher did not stop");
        }
    }

    /** Stops publishing and searching. */
    @Override
    public void close() throws InterruptedException {
        stopPublishing();
        searching.set(false);
        load.join();
    }

    /** The environment of the in-JVM ingest-worker and event-dispatcher, on topics under {@code prefix}. */
    static Map<String, String> env(PostgresSchema db, String prefix) {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0"); // the ingest's webhook server: never the default 8081
        env.put("RAGLINE_HTTP_HOST", "127.0.0.1");
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_OUTBOX_POLL_INTERVAL", "200ms");
        return env;
    }

    /** {@code env} as the schema's owner (the CLI's migrate, rollback and prune are DDL). */
    static Map<String, String> ownerEnv(PostgresSchema db, Map<String, String> env) {
        Map<String, String> owner = new HashMap<>(env);
        owner.put("DATABASE_URL", db.ownerDatabaseUrl());
        return owner;
    }

    /** {@code env} for the embedding-worker's process: small batches, so a kill lands mid-backfill. */
    static Map<String, String> workerEnv(Map<String, String> env) {
        Map<String, String> worker = new HashMap<>(env);
        worker.put("RAGLINE_EMBEDDING_MAX_REQUESTS", "1");
        return worker;
    }

    /** The twelve shortest licence files (a few seconds of backfill: long enough to be killed in). */
    static List<Path> licenceTexts() throws Exception {
        try (var files = Files.list(Path.of("/usr/share/common-licenses"))) {
            return files.filter(Files::isRegularFile)
                    .sorted(Comparator.comparingLong((Path p) -> p.toFile().length())
                            .thenComparing(Path::toString))
                    .limit(12)
                    .toList();
        }
    }

    static void publish(KafkaProducer<String, String> producer, String prefix, String id, String content) {
        String doc = JSON.createObjectNode()
                .put("op", "upsert")
                .put("id", id)
                .put("title", id)
                .put("content", content)
                .toString();
        producer.send(new ProducerRecord<>(prefix + "documents", "default/" + id, doc));
    }

    /** Each query's 5 hits by vector (document ids, best first). */
    static Map<String, List<String>> results(Searcher searcher) throws Exception {
        return results(searcher, 5, List.of());
    }

    /** Each query's {@code k} hits by vector, without {@code leftOut} and the live documents, cut to 5. */
    static Map<String, List<String>> results(Searcher searcher, int k, List<String> leftOut) throws Exception {
        Map<String, List<String>> out = new HashMap<>();
        for (String q : QUERIES) {
            List<String> ids = new ArrayList<>();
            // Vector mode: its scores do not depend on the other documents (a hybrid rank fuses ranks,
            // which documents published since shift).
            searcher.search(new SearchJson.Request(q, "default", k, null, SearchMode.VECTOR, null, true, 0)).stream()
                    .map(Searcher.Hit::documentId)
                    .filter(id -> !leftOut.contains(id) && !id.startsWith("live-"))
                    .limit(5)
                    .forEach(ids::add);
            out.put(q, ids);
        }
        return out;
    }

    static long embedded(PostgresSchema db) throws Exception {
        return (long) db.queryValue("select count(*) from documents where status = 'embedded'");
    }

    /** The licence files embedded (the documents published continuously left out). */
    static long embeddedFiles(PostgresSchema db) throws Exception {
        return (long) db.queryValue(
                "select count(*) from documents where status = 'embedded' and external_id not like 'live-%'");
    }

    static boolean alive(JavaProcess p) throws Exception {
        if (!p.process().isAlive()) {
            throw new AssertionError("embedding-worker exited with "
                    + p.process().exitValue() + "\nstdout:\n" + p.stdout() + "\nstderr:\n" + p.stderr());
        }
        return true;
    }

    /**
     * The text of the {@code n}th document published during the migration: about things far from
     * the licences' words, so that the queries' top hits among the licence files stay within what a
     * vector search returns when the rollback's results are compared.
     */
    private static String liveText(long n) {
        String topic = LIVE_TOPICS.get((int) (n % LIVE_TOPICS.size()));
        return "Note " + n + ". " + topic + " " + topic.replace("the ", "a quiet ") + " Entry " + n + " ends here.";
    }
}
