package io.ragline.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Gauge;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.ContractDecoder;
import io.ragline.core.db.Migrations;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.embedding.ProviderRegistry;
import io.ragline.embedding.request.EmbeddingWriter;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.TestServices;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The connection pool while an HTTP embedding provider is slow: an embedding-worker (its runtime,
 * pool, consumer and {@link EmbeddingWriter} on a real Postgres and broker) embeds documents
 * through an in-process OpenAI-compatible endpoint that answers each call after {@code
 * latencyMillis}. A sampler reads the pool's Micrometer gauge {@code hikaricp.connections.active}
 * (Prometheus: {@code hikaricp_connections_active}) every 10 ms and sorts the samples by whether
 * a provider call was in flight. Two modes on fresh schemas: the worker as it runs (the writer's
 * {@code prepare} embeds before the sink takes a connection), and the writer called inside the
 * transaction (inference with a connection and the row locks held, as before issue 14), in
 * {@code rounds} rounds whose order alternates.
 *
 * <p>{@code ./mvnw -q -pl benchmarks exec:java -Dexec.mainClass=io.ragline.benchmarks.SlowProviderPoolBenchmark
 * -Dexec.args="160 500 3"}
 */
public final class SlowProviderPoolBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DIMENSIONS = 384;
    private static final int CHUNKS = 4;

    private SlowProviderPoolBenchmark() {}

    public static void main(String[] args) throws Exception {
        int documents = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int latencyMillis = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        System.out.printf(
                Locale.ROOT,
                "%d cores, %d documents of %d chunks, provider answers in %d ms%n",
                Runtime.getRuntime().availableProcessors(),
                documents,
                CHUNKS,
                latencyMillis);
        System.out.println("| mode | provider calls | seconds | samples in a call | gauge in a call: max / mean |"
                + " live in a call: max / mean | samples between calls | gauge between: max / mean | live between:"
                + " max / mean |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < 2; i++) {
                run(documents, latencyMillis, (round + i) % 2 == 1); // the order alternates
            }
        }
    }

    private static void run(int documents, int latencyMillis, boolean inside) throws Exception {
        String rawUrl = TestServices.get().databaseUrl();
        DatabaseUrl url = DatabaseUrl.parse(rawUrl).url().orElseThrow();
        String schema = "bench_" + Long.toString(System.nanoTime(), 36);
        new Migrations(url, schema, "bench").migrate();
        AtomicInteger inCall = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        HttpServer endpoint = endpoint(latencyMillis, inCall, calls);
        String prefix = "pool" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Map<String, String> values = new HashMap<>();
        values.put("DATABASE_URL", rawUrl);
        values.put("KAFKA_BOOTSTRAP_SERVERS", KafkaTopics.bootstrapServers());
        values.put("RAGLINE_DB_SCHEMA", schema);
        values.put("RAGLINE_TOPIC_PREFIX", prefix);
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.put("RAGLINE_EMBEDDING_PROVIDER", "openai");
        values.put(
                "RAGLINE_OPENAI_BASE_URL",
                "http://127.0.0.1:" + endpoint.getAddress().getPort());
        values.put("RAGLINE_OPENAI_API_KEY", "sk-bench");
        Env env = new Env(values);
        EmbeddingSettings embedding = EmbeddingSettings.from(env);
        env.validate();
        try (WorkerRuntime runtime = WorkerRuntime.start("pool-bench", 0, env);
                Connection c = BenchmarkDatabase.connect(url);
                KafkaProducer<String, String> producer = KafkaTopics.producer()) {
            seed(c, schema, documents);
            String topic = bind(runtime, embedding, inside);
            runtime.markStarted();
            List<double[]> samples = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread sampler = sampler(runtime, inCall, samples);
            long start = System.nanoTime();
            sampler.start();
            produce(c, producer, topic);
            while (BenchmarkDatabase.count(
                            url, "select count(*) from " + schema + ".documents where status = 'embedded'")
                    < documents) {
                Thread.sleep(100);
            }
            sampler.interrupt();
            sampler.join();
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "| %s | %d | %.1f | %s | %s |%n",
                    inside ? "inference inside the transaction (before)" : "prepare, then a short transaction (now)",
                    calls.get(),
                    seconds,
                    summary(samples, 1),
                    summary(samples, 0));
        } finally {
            endpoint.stop(0);
            BenchmarkDatabase.execute(url, "drop schema " + schema + " cascade");
        }
    }

    /** One embedding request per document, as the ingest-worker asks. */
    private static void produce(Connection c, KafkaProducer<String, String> producer, String topic) throws Exception {
        try (var rs = c.createStatement().executeQuery("select id, external_id from documents order by id")) {
            while (rs.next()) {
                ObjectNode request = JSON.createObjectNode()
                        .put("schema_version", 1)
                        .put("collection", "remote")
                        .put("id", rs.getString(2))
                        .put("document", rs.getLong(1))
                        .put("version", 1);
                producer.send(new ProducerRecord<>(topic, "remote/" + rs.getString(2), request.toString()));
            }
        }
        producer.flush();
    }

    /** The collection {@code remote} and {@code documents} chunked documents waiting for their vectors. */
    private static void seed(Connection c, String schema, int documents) throws Exception {
        try (var s = c.createStatement()) {
            s.execute("set search_path = " + schema + ", public");
            s.execute("insert into collections (name, embedding_provider, embedding_model, dimensions)"
                    + " values ('remote', 'openai', 'slow-model', " + DIMENSIONS + ")");
            s.execute("insert into documents (collection_id, external_id, title, version, status, chunk_count)"
                    + " select c.id, 'd' || n, 'T', 1, 'chunked', " + CHUNKS + " from collections c,"
                    + " generate_series(1, " + documents + ") n where c.name = 'remote'");
            s.execute("insert into chunks (document_id, collection_id, document_version, seq, content,"
                    + " token_count) select d.id, d.collection_id, 1, n, 'Chunk ' || n || ' of document '"
                    + " || d.external_id, 8 from documents d, generate_series(0, " + (CHUNKS - 1) + ") n");
        }
    }

    /** Consumes the embedding requests as the embedding-worker does, or with inference in the transaction. */
    private static String bind(WorkerRuntime runtime, EmbeddingSettings embedding, boolean inside) {
        ProviderRegistry providers = runtime.manage(new ProviderRegistry(embedding, runtime.dataSource()));
        EmbeddingWriter writer = new EmbeddingWriter(
                runtime.dataSource(), new CollectionCatalog(Duration.ofSeconds(10)), providers, runtime.registry());
        // A lambda keeps BatchWriter's default prepare: the writer then embeds inside the transaction.
        BatchWriter<EmbeddingRequest> applied = inside ? writer::write : writer;
        String topic = runtime.settings().topic(EmbeddingWorker.EMBEDDING_REQUESTS);
        runtime.ensureTopics(List.of(topic));
        runtime.consume(new ConsumerBinding<>(
                        EmbeddingWorker.EMBEDDING_REQUESTS,
                        List.of(topic),
                        new ContractDecoder<>(new EmbeddingRequestCodec()),
                        applied,
                        EmbeddingWorker.failurePolicy())
                .withMaxPollRecords(EmbeddingWorker.DEFAULT_MAX_REQUESTS));
        return topic;
    }

    /**
     * Samples {in a call (1/0), the gauge, the pool's own count now} every 5 ms; the gauge reads
     * HikariCP's PoolStats, which it refreshes at most once a second, so the live count is sampled too.
     */
    private static Thread sampler(WorkerRuntime runtime, AtomicInteger inCall, List<double[]> samples) {
        Gauge active = runtime.registry().get("hikaricp.connections.active").gauge();
        var pool = runtime.dataSource().getHikariPoolMXBean();
        return new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                int call = inCall.get() > 0 ? 1 : 0;
                double gauge = active.value();
                int live = pool.getActiveConnections();
                if (call == (inCall.get() > 0 ? 1 : 0)) { // not on the edge of a call
                    samples.add(new double[] {call, gauge, live});
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /**
     * Among the samples taken in a call (1) or between calls (0): their count, then max / mean of
     * the gauge, then max / mean of the pool's live count.
     */
    private static String summary(List<double[]> samples, int inCall) {
        int n = 0;
        double[] max = new double[3];
        double[] sum = new double[3];
        synchronized (samples) {
            for (double[] s : samples) {
                if (s[0] == inCall) {
                    n++;
                    for (int i = 1; i < 3; i++) {
                        max[i] = Math.max(max[i], s[i]);
                        sum[i] += s[i];
                    }
                }
            }
        }
        int count = Math.max(1, n);
        return String.format(
                Locale.ROOT, "%d | %.0f / %.2f | %.0f / %.2f", n, max[1], sum[1] / count, max[2], sum[2] / count);
    }

    /** An OpenAI-compatible {@code POST /v1/embeddings} on loopback that answers after {@code latencyMillis}. */
    private static HttpServer endpoint(int latencyMillis, AtomicInteger inCall, AtomicInteger calls) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/embeddings", exchange -> answer(exchange, latencyMillis, inCall, calls));
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
        return server;
    }

    private static void answer(HttpExchange exchange, int latencyMillis, AtomicInteger inCall, AtomicInteger calls)
            throws java.io.IOException {
        try (exchange) {
            inCall.incrementAndGet();
            calls.incrementAndGet();
            JsonNode input;
            try {
                input = JSON.readTree(exchange.getRequestBody()).path("input");
                Thread.sleep(latencyMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                inCall.decrementAndGet();
            }
            ObjectNode body = JSON.createObjectNode();
            ArrayNode data = body.putArray("data");
            for (int i = 0; i < input.size(); i++) {
                ArrayNode e = data.addObject().put("index", i).putArray("embedding");
                for (int d = 0; d < DIMENSIONS; d++) {
                    e.add(((i + d) % 7) / 7.0);
                }
            }
            byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
