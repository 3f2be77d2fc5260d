package io.ragline.benchmarks;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.config.Secret;
import io.ragline.ingest.webhook.WebhookServer;
import io.ragline.ingest.webhook.WebhookSettings;
import io.ragline.ingest.webhook.WebhookSigner;
import io.ragline.testkit.TestServices;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The webhook receiver: {@code clients} concurrent senders (default 32), each on its own keep-alive
 * HTTP/1.1 connection and waiting for each answer before sending the next, post signed
 * {@code standard} webhooks of about 300 bytes to the real receiver of a real runtime, which
 * stores each in Postgres (one transaction per webhook, the outbox row by trigger). Measures
 * stored webhooks per second and the latency each sender sees (p50, p99, max) after a warm-up,
 * then checks that every answered webhook is a row.
 *
 * <p>{@code ./mvnw -q -pl benchmarks exec:java -Dexec.mainClass=io.ragline.benchmarks.WebhookBenchmark
 * -Dexec.args="20 32"} (seconds, clients)
 */
public final class WebhookBenchmark {
    private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static final Duration WARM_UP = Duration.ofSeconds(5);

    private WebhookBenchmark() {}

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        DatabaseUrl url =
                DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
        String schema = "bench_" + Long.toString(System.nanoTime(), 36);
        Map<String, String> env = new HashMap<>();
        env.put("DATABASE_URL", TestServices.get().databaseUrl());
        env.put("KAFKA_BOOTSTRAP_SERVERS", TestServices.get().kafkaBootstrapServers());
        env.put("RAGLINE_DB_SCHEMA", schema);
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0");
        env.put("RAGLINE_WEBHOOK_BENCH_SCHEME", "standard");
        env.put("RAGLINE_WEBHOOK_BENCH_SECRET", SECRET);
        env.putAll(System.getenv().entrySet().stream()
                .filter(e -> e.getKey().startsWith("RAGLINE_WEBHOOK_"))
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
        Env e = new Env(env);
        WebhookSettings settings = WebhookSettings.from(e, 0);
        System.out.printf(
                Locale.ROOT,
                "%d cores, %d clients, %d s measured after %d s warm-up; %d server threads, pool %d%n",
                Runtime.getRuntime().availableProcessors(),
                clients,
                seconds,
                WARM_UP.toSeconds(),
                settings.threads(),
                settings.poolSize());

        try (WorkerRuntime runtime = WorkerRuntime.start("webhook-bench", 0, e)) {
            WebhookServer server = runtime.manage(WebhookServer.start(runtime, settings));
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/webhooks/bench");
            long warmEnd = System.nanoTime() + WARM_UP.toNanos();
            long end = warmEnd + Duration.ofSeconds(seconds).toNanos();
            AtomicLong failures = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            Future<?>[] senders = new Future<?>[clients];
            long[][] latencies = new long[clients][];
            long[] sent = new long[clients];
            for (int i = 0; i < clients; i++) {
                int client = i;
                senders[i] = pool.submit(() -> {
                    latencies[client] = send(uri, client, warmEnd, end, failures, sent);
                    return null;
                });
            }
            for (Future<?> f : senders) {
                f.get();
            }
            pool.shutdown();

            long[] all = Arrays.stream(latencies)
                    .flatMapToLong(Arrays::stream)
                    .sorted()
                    .toArray();
            long total = Arrays.stream(sent).sum();
            long rows = BenchmarkDatabase.count(url, "select count(*) from " + schema + ".claude_events");
            System.out.printf(
                    Locale.ROOT,
                    "| %d clients | %,d webhooks | %,.0f webhooks/s | p50 %.1f ms | p99 %.1f ms | max %.1f ms |"
                            + " %d failed | %,d rows for %,d answered 200 |%n",
                    clients,
                    all.length,
                    all.length / (double) seconds,
                    Latencies.percentileMillis(all, 0.50),
                    Latencies.percentileMillis(all, 0.99),
                    all.length == 0 ? 0 : all[all.length - 1] / 1e6,
                    failures.get(),
                    rows,
                    total);
        } finally {
            BenchmarkDatabase.execute(url, "drop schema if exists " + schema + " cascade");
        }
    }

    /**
     * One sender: posts until {@code end} on one keep-alive connection, returns the latencies (ns)
     * of the answers after warm-up. A minimal blocking HTTP/1.1 client (one write per request, a
     * Content-Length response read in full): the JDK's HttpClient costs several times the CPU the
     * receiver does, and on two shared cores the load generator must not be what is measured.
     */
    private static long[] send(URI uri, int client, long warmEnd, long end, AtomicLong failures, long[] sent)
            throws Exception {
        Secret secret = Secret.of(SECRET);
        long[] latencies = new long[1 << 16];
        int n = 0;
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            for (long seq = 0; ; seq++) {
                long started = System.nanoTime();
                if (started >= end) {
                    break;
                }
                String id = "msg_" + client + "_" + seq;
                byte[] body = ("{\"type\":\"invoice.paid\",\"id\":\"" + id + "\",\"data\":{\"customer\":\"cus_" + seq
                                + "\",\"amount\":4200,\"currency\":\"eur\",\"lines\":[{\"sku\":\"basic\",\"qty\":1},"
                                + "{\"sku\":\"support\",\"qty\":2}],\"note\":\"" + "x".repeat(120) + "\"}}")
                        .getBytes(StandardCharsets.UTF_8);
                long ts = Instant.now().getEpochSecond();
                String head = "POST " + uri.getPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
                        + "\r\nUser-Agent: ragline-webhook-benchmark\r\nContent-Type: application/json\r\n"
                        + "webhook-id: " + id + "\r\nwebhook-timestamp: " + ts + "\r\nwebhook-signature: "
                        + WebhookSigner.standard(secret, id, ts, body) + "\r\nContent-Length: " + body.length
                        + "\r\n\r\n";
                byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
                byte[] request = Arrays.copyOf(headBytes, headBytes.length + body.length);
                System.arraycopy(body, 0, request, headBytes.length, body.length);
                out.write(request);
                out.flush();
                int status = readResponse(in);
                long took = System.nanoTime() - started;
                if (status != 200) {
                    failures.incrementAndGet();
                    continue;
                }
                sent[client]++;
                if (started >= warmEnd) {
                    if (n == latencies.length) {
                        latencies = Arrays.copyOf(latencies, n * 2);
                    }
                    latencies[n++] = took;
                }
            }
        }
        return Arrays.copyOf(latencies, n);
    }

    /** Reads one response (status line, headers, Content-Length body) and returns its status. */
    private static int readResponse(InputStream in) throws IOException {
        String statusLine = line(in);
        int status = Integer.parseInt(statusLine.substring(9, 12));
        int length = 0;
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            if (h.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                length = Integer.parseInt(h.substring(15).strip());
            }
        }
        in.readNBytes(length);
        return status;
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("connection closed by the receiver");
            }
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }
}
