package io.ragline.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import io.ragline.embedding.search.SearchServer;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.ingest.IngestWorker;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.TestServices;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Ragline's whole pipeline in the benchmark's JVM, as {@code ragline all} wires it: the
 * event-dispatcher, ingest-worker and embedding-worker (with {@code POST /search} on a port of
 * this machine, no token) on a schema and topics of their own, over the real Postgres and broker of
 * {@link TestServices}. Documents go in as users send them (records of the {@code documents}
 * topic, from one producer) and come out as users search ({@code POST /search}). Bookkeeping
 * (counts, waiting for {@code embedded}) runs on one JDBC connection of its own, outside the
 * workers' pool. Closing stops the workers and drops the schema.
 */
public final class BenchmarkPipeline implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DocumentCodec DOCUMENTS = new DocumentCodec(Integer.MAX_VALUE - 64 * 1024);

    private final DatabaseUrl url;
    private final String schema;
    private final String prefix;
    private final WorkerRuntime runtime;
    private final KafkaProducer<String, String> producer;
    private final Connection connection;
    private final int searchPort;
    private final HttpClient http = HttpClient.newHttpClient();

    private BenchmarkPipeline(
            DatabaseUrl url,
            String schema,
            String prefix,
            WorkerRuntime runtime,
            KafkaProducer<String, String> producer,
            Connection connection,
            int searchPort) {
        this.url = url;
        this.schema = schema;
        this.prefix = prefix;
        this.runtime = runtime;
        this.producer = producer;
        this.connection = connection;
        this.searchPort = searchPort;
    }

    /**
     * Migrates a new schema and starts the three workers on it; {@code RAGLINE_*} variables of the
     * environment (the settings to compare) apply, except the schema, topic prefix and ports.
     */
    public static BenchmarkPipeline start(String name) throws Exception {
        String rawUrl = TestServices.get().databaseUrl();
        DatabaseUrl url = DatabaseUrl.parse(rawUrl).url().orElseThrow();
        String schema = "bench_" + Long.toString(System.nanoTime(), 36);
        new Migrations(url, schema, "bench").migrate();
        String prefix = name + UUID.randomUUID().toString().substring(0, 8) + ".";
        int searchPort = freePort();
        Env env = env(rawUrl, schema, prefix, searchPort);
        var dispatcher = EventDispatcher.wiring(env);
        var ingest = IngestWorker.wiring(env, 0);
        var embedding = EmbeddingWorker.wiring(env, "RAGLINE_SEARCH_PORT", 0);
        env.validate();
        WorkerRuntime runtime = null;
        KafkaProducer<String, String> producer = null;
        try {
            runtime = WorkerRuntime.start(name, 0, env);
            dispatcher.accept(runtime);
            ingest.accept(runtime);
            embedding.accept(runtime);
            producer = KafkaTopics.producer();
            return new BenchmarkPipeline(
                    url, schema, prefix, runtime, producer, BenchmarkDatabase.connect(url), searchPort);
        } catch (Exception | Error e) {
            if (producer != null) {
                producer.close();
            }
            if (runtime != null) {
                runtime.close();
            }
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
            throw e;
        }
    }

    /** The benchmark's own schema, topics and ports over the {@code RAGLINE_*} settings to compare. */
    private static Env env(String rawUrl, String schema, String prefix, int searchPort) {
        Map<String, String> values = new HashMap<>();
        // Settings to compare (RAGLINE_EMBEDDING_MAX_REQUESTS=500, ...) come from the environment.
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("RAGLINE_")) {
                values.put(k, v);
            }
        });
        values.put("DATABASE_URL", rawUrl);
        values.put("KAFKA_BOOTSTRAP_SERVERS", KafkaTopics.bootstrapServers());
        values.put("RAGLINE_DB_SCHEMA", schema);
        values.put("RAGLINE_TOPIC_PREFIX", prefix);
        // Groups of their own too: a group shared with another run (other topics) rebalances with it.
        values.put("RAGLINE_GROUP_PREFIX", prefix.substring(0, prefix.length() - 1));
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.put("RAGLINE_HTTP_PORT", "0");
        values.put("RAGLINE_SEARCH_PORT", Integer.toString(searchPort));
        values.put("RAGLINE_HTTP_HOST", "127.0.0.1"); // search without a token: this machine only
        return new Env(values);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public WorkerRuntime runtime() {
        return runtime;
    }

    public String schema() {
        return schema;
    }

    /** The bookkeeping connection (the benchmark's own, not the workers'); names need {@link #schema}. */
    public Connection connection() {
        return connection;
    }

    /**
     * Creates collection {@code name} as {@code ragline collections create} does: an ONNX model of
     * the catalogue, its chunking and template; the database makes its HNSW index at once.
     */
    public void createCollection(String name, String model, int chunkSize, int chunkOverlap, String template)
            throws Exception {
        try (PreparedStatement s = connection.prepareStatement("insert into " + schema
                + ".collections (name, embedding_provider, embedding_model, dimensions, chunk_size_tokens,"
                + " chunk_overlap_tokens, chunk_template) values (?, 'onnx', ?, ?, ?, ?, ?)")) {
            s.setString(1, name);
            s.setString(2, model);
            s.setInt(3, ModelCatalog.get(model).dimensions());
            s.setInt(4, chunkSize);
            s.setInt(5, chunkOverlap);
            s.setString(6, template);
            s.executeUpdate();
        }
    }

    /** Sends an upsert of document {@code id} to the {@code documents} topic (not flushed). */
    public void publish(String collection, String id, String title, String text) {
        DocumentMessage m =
                new DocumentMessage(DocumentMessage.Op.UPSERT, collection, id, title, text, null, Map.of(), null);
        producer.send(new ProducerRecord<>(prefix + Topic.DOCUMENTS.topic(), m.key(), DOCUMENTS.encode(m)));
    }

    public void flush() {
        producer.flush();
    }

    /** Waits, polling this JVM's one connection every millisecond, until document {@code id} is embedded. */
    public void awaitEmbedded(String id) throws Exception {
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
     * Waits, polling every 50 ms on this JVM's one connection, until {@code expected} documents of
     * {@code collection} are embedded; false if {@code timeoutMillis} passed first.
     */
    public boolean awaitEmbedded(String collection, long expected, long timeoutMillis) throws Exception {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (embedded(collection) < expected) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    /** The documents of {@code collection} that are embedded. */
    public long embedded(String collection) throws Exception {
        return countIn(
                collection,
                "select count(*) from " + schema + ".documents d join " + schema
                        + ".collections c on c.id = d.collection_id where c.name = ? and d.status = '"
                        + DocumentStatus.EMBEDDED.stored() + "'");
    }

    /** The chunks of {@code collection}. */
    public long chunks(String collection) throws Exception {
        return countIn(
                collection,
                "select count(*) from " + schema + ".chunks ch join " + schema
                        + ".collections c on c.id = ch.collection_id where c.name = ?");
    }

    private long countIn(String collection, String sql) throws Exception {
        try (PreparedStatement s = connection.prepareStatement(sql)) {
            s.setString(1, collection);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The first value of {@code sql}'s first row, as a long (0 for null). */
    public long count(String sql) throws Exception {
        try (ResultSet rs = connection.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * The document ids of the {@code k} best chunks of {@code collection} for {@code query}, best
     * first, from {@code POST /search} (the collection's model embeds the query, with its query
     * prefix, in the embedding-worker; {@code search_documents} finds the chunks).
     */
    public List<String> search(String collection, String query, int k) throws Exception {
        String body = JSON.createObjectNode()
                .put("query", query)
                .put("collection", collection)
                .put("k", Math.min(k, SearchServer.MAX_K))
                .toString();
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + searchPort + "/search"))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("POST /search answered " + response.statusCode() + ": " + response.body());
        }
        List<String> ids = new ArrayList<>();
        for (JsonNode hit : JSON.readTree(response.body()).get("results")) {
            ids.add(hit.get("document_id").asText());
        }
        return ids;
    }

    /** Stops the workers, closes the producer and the connection, and drops the schema. */
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
