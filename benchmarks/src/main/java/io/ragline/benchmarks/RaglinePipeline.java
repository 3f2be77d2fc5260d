package io.ragline.benchmarks;

import io.ragline.contracts.Topic;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.contracts.document.DocumentMessage;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.Migrations;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.ingest.IngestWorker;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.TestServices;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Ragline's whole pipeline in the benchmark's JVM, as {@code ragline all} runs it: the
 * event-dispatcher, ingest-worker and embedding-worker on one {@link WorkerRuntime}, a real
 * Postgres (a schema of its own, migrated) and a real broker (topics under a prefix of its own),
 * with every {@code RAGLINE_*} setting of the environment (the defaults otherwise), started
 * when {@code /health/ready} answers 200 (the default collection's model loaded). Documents
 * are published from this JVM by one producer; completion is watched over one JDBC connection
 * (no polling processes, which would take a core from the pipeline). Closing stops the workers
 * and drops the schema.
 */
final class RaglinePipeline implements AutoCloseable {
    private static final DocumentCodec DOCUMENTS = new DocumentCodec(Integer.MAX_VALUE);

    /** How often the one connection looks for progress. */
    private static final Duration POLL = Duration.ofMillis(20);

    /** How long the workers may take to start (the default collection's model loads meanwhile). */
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(2);

    private final String rawUrl;
    private final DatabaseUrl url;
    private final String schema;
    private final String topicPrefix;
    private final WorkerRuntime runtime;
    private final KafkaProducer<String, String> producer;
    private final Connection connection;

    private RaglinePipeline(
            String rawUrl,
            DatabaseUrl url,
            String schema,
            String topicPrefix,
            WorkerRuntime runtime,
            KafkaProducer<String, String> producer,
            Connection connection) {
        this.rawUrl = rawUrl;
        this.url = url;
        this.schema = schema;
        this.topicPrefix = topicPrefix;
        this.runtime = runtime;
        this.producer = producer;
        this.connection = connection;
    }

    /** Migrates a fresh schema and starts the three workers under the process name {@code name}. */
    static RaglinePipeline start(String name) throws Exception {
        return start(name, Map.of());
    }

    /** As {@link #start(String)}, with {@code settings} over the environment's (a variant to compare). */
    static RaglinePipeline start(String name, Map<String, String> settings) throws Exception {
        return start(name, settings, UnaryOperator.identity());
    }

    /**
     * As {@link #start(String, Map)}, the workers reaching the database at {@code
     * workerDatabaseUrl} of the services' URL (through a {@link io.ragline.testkit.TcpProxy} that
     * delays it, say); the benchmark's own connection and the migration go straight to it.
     */
    static RaglinePipeline start(String name, Map<String, String> settings, UnaryOperator<String> workerDatabaseUrl)
            throws Exception {
        String rawUrl = TestServices.get().databaseUrl();
        DatabaseUrl url = DatabaseUrl.parse(rawUrl).url().orElseThrow();
        String schema = "bench_" + Long.toString(System.nanoTime(), 36);
        new Migrations(url, schema, "bench").migrate();
        String prefix =
                name.replaceAll("[^a-z0-9]", "") + UUID.randomUUID().toString().substring(0, 8) + ".";
        Env env = env(workerDatabaseUrl.apply(rawUrl), schema, prefix, settings);
        var dispatcher = EventDispatcher.wiring(env);
        var ingest = IngestWorker.wiring(env, 0);
        var embedding = EmbeddingWorker.wiring(env, EmbeddingWorker.SEARCH_PORT, 0);
        env.validate();
        WorkerRuntime runtime = WorkerRuntime.start(name, 0, env);
        try {
            dispatcher.accept(runtime);
            ingest.accept(runtime);
            embedding.accept(runtime);
            runtime.markStarted();
            awaitReady(runtime, READY_TIMEOUT);
            return new RaglinePipeline(
                    rawUrl, url, schema, prefix, runtime, KafkaTopics.producer(), BenchmarkDatabase.connect(url));
        } catch (Exception | Error e) {
            runtime.close();
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
            throw e;
        }
    }

    /**
     * Waits for {@code /health/ready}: among others, the model of every collection that existed at
     * start-up ({@code default}) is loaded, so its loading takes no core from what is measured.
     */
    private static void awaitReady(WorkerRuntime runtime, Duration timeout) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest ready = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + runtime.adminPort() + "/health/ready"))
                .timeout(Duration.ofSeconds(5))
                .build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            HttpResponse<String> r = http.send(ready, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "the pipeline was not ready within " + timeout + ": " + r.statusCode() + " " + r.body());
            }
            Thread.sleep(POLL.toMillis() * 5);
        }
    }

    /** The benchmark's own schema, topics and ports over the {@code RAGLINE_*} settings to compare. */
    private static Env env(String rawUrl, String schema, String prefix, Map<String, String> settings) {
        Map<String, String> values = new HashMap<>();
        // Settings to compare (RAGLINE_EMBEDDING_MAX_REQUESTS=500, ...) come from the environment.
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("RAGLINE_")) {
                values.put(k, v);
            }
        });
        values.putAll(settings);
        values.put("DATABASE_URL", rawUrl);
        values.put("KAFKA_BOOTSTRAP_SERVERS", KafkaTopics.bootstrapServers());
        values.put("RAGLINE_DB_SCHEMA", schema);
        values.put("RAGLINE_TOPIC_PREFIX", prefix);
        // Consumer groups of its own too: a group shared with another run's workers (other topics,
        // same broker) rebalances whenever that run starts or stops, in the middle of a measurement.
        values.put("RAGLINE_GROUP_PREFIX", prefix.substring(0, prefix.length() - 1));
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.put("RAGLINE_HTTP_PORT", "0");
        values.put("RAGLINE_SEARCH_PORT", "0");
        values.put("RAGLINE_HTTP_HOST", "127.0.0.1"); // search without a token: this machine only
        return new Env(values);
    }

    /** {@code DATABASE_URL} of the services, for a process the benchmark starts (never printed). */
    String rawDatabaseUrl() {
        return rawUrl;
    }

    String schema() {
        return schema;
    }

    WorkerRuntime runtime() {
        return runtime;
    }

    /** The one connection the benchmark reads progress and results on. */
    Connection connection() {
        return connection;
    }

    /**
     * Creates collection {@code name} with the {@code onnx} model {@code model} and every other
     * setting at its default (chunk size, overlap, template); its HNSW index is made at once.
     */
    void createCollection(String name, String model) throws Exception {
        try (PreparedStatement s = connection.prepareStatement("insert into " + schema
                + ".collections (name, embedding_provider, embedding_model) values (?, 'onnx', ?)")) {
            s.setString(1, name);
            s.setString(2, model);
            s.executeUpdate();
        }
    }

    /** Work done in one transaction on {@link #connection()} ({@link #inTransaction}). */
    interface SchemaWork {
        void run(Connection c) throws Exception;
    }

    /**
     * Runs {@code work} in one transaction on the benchmark's connection, with the pipeline's
     * schema first in the search path (as a worker's connections have it): for core's own calls,
     * such as {@code CollectionRegistry}'s, whose statements name no schema.
     */
    void inTransaction(SchemaWork work) throws Exception {
        connection.setAutoCommit(false);
        try (PreparedStatement path =
                connection.prepareStatement("select set_config('search_path', ? || ', public', true)")) {
            path.setString(1, schema);
            path.execute();
            work.run(connection);
            connection.commit();
        } catch (Exception e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    /** Sends an upsert of document {@code id} into {@code collection} (not flushed). */
    void publish(String collection, String id, String title, String text) {
        publish(collection, id, title, text, null);
    }

    /** Sends an upsert of document {@code id} at {@code version} (null: none) into {@code collection}. */
    void publish(String collection, String id, String title, String text, Long version) {
        DocumentMessage doc =
                new DocumentMessage(DocumentMessage.Op.UPSERT, collection, id, title, text, null, Map.of(), version);
        producer.send(new ProducerRecord<>(topicPrefix + Topic.DOCUMENTS.topic(), doc.key(), DOCUMENTS.encode(doc)));
    }

    void flush() {
        producer.flush();
    }

    /** Waits until document {@code id} (in any collection) is embedded. */
    void awaitEmbedded(String id) throws Exception {
        try (PreparedStatement s =
                connection.prepareStatement("select status from " + schema + ".documents where external_id = ?")) {
            s.setString(1, id);
            while (true) {
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next() && DocumentStatus.fromStored(rs.getString(1)) == DocumentStatus.EMBEDDED) {
                        return;
                    }
                }
                Thread.sleep(1);
            }
        }
    }

    /**
     * Waits until {@code count} documents of {@code collection} are embedded; fails at once when
     * one of them failed, and after {@code timeout} naming how far it got.
     */
    void awaitEmbedded(String collection, int count, Duration timeout) throws Exception {
        awaitEmbedded(collection, count, timeout, POLL);
    }

    /** {@link #awaitEmbedded(String, int, Duration)}, asking every {@code poll}. */
    void awaitEmbedded(String collection, int count, Duration timeout, Duration poll) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (PreparedStatement s = connection.prepareStatement("select count(*) filter (where d.status = 'embedded'),"
                + " count(*) filter (where d.status = 'failed') from " + schema + ".documents d join " + schema
                + ".collections c on c.id = d.collection_id where c.name = ?")) {
            s.setString(1, collection);
            while (true) {
                long embedded;
                long failed;
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    embedded = rs.getLong(1);
                    failed = rs.getLong(2);
                }
                if (failed > 0) {
                    throw new IllegalStateException(failed + " documents of collection " + collection + " failed");
                }
                if (embedded >= count) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("collection " + collection + ": " + embedded + " of " + count
                            + " documents embedded after " + timeout);
                }
                Thread.sleep(poll.toMillis());
            }
        }
    }

    /** The first column of the first row of {@code sql}, on the one connection. */
    long count(String sql) throws Exception {
        try (var s = connection.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public void close() throws Exception {
        try (connection;
                producer) {
            runtime.close();
        } finally {
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
        }
    }
}
