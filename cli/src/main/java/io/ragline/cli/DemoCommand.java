package io.ragline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.Console;
import io.ragline.contracts.status.ClaudeEventStatus;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import io.ragline.core.config.Secret;
import io.ragline.devstack.DevStack;
import io.ragline.devstack.DevStackException;
import io.ragline.embedding.ProviderRegistry;
import io.ragline.embedding.search.Searcher;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.ingest.webhook.WebhookSigner;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ragline demo}: on a fresh machine, one command. Starts Postgres with pgvector and Kafka
 * if missing ({@code dev up}), runs every worker in this JVM ({@code ragline all}), publishes a
 * corpus of real documents read at run time (this project's README and docs, the licences in
 * {@code /usr/share/common-licenses}, and manual pages where {@code man} exists) to the {@code
 * demo} collection, shows a progress bar until all are embedded, sends a signed webhook, runs a
 * few searches and prints the status counts. The workers keep running until Ctrl-C (or stop at
 * once with {@code --exit}); Postgres and Kafka stay up for the next run ({@code ragline dev down}).
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "Start everything, publish real documents, wait until searchable, search, show status.")
final class DemoCommand implements Callable<Integer> {
    static final String COLLECTION = "demo";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> QUERIES = List.of(
            "a licence that waives all copyright and dedicates the work to the public domain",
            "how do I start the local Postgres and Kafka for development",
            "what happens to a webhook whose signature is wrong",
            "a note that came in through a webhook");
    private static final List<String> MAN_PAGES =
            List.of("ls", "grep", "tar", "ssh", "find", "sed", "curl", "bash", "ps", "kill", "cron", "git");

    @Option(names = "--exit", description = "Stop after the showcase instead of waiting for Ctrl-C.")
    boolean exit;

    @Option(
            names = "--timeout",
            defaultValue = "600",
            description = "Seconds to wait for embeddings (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        if (timeoutSeconds <= 0) {
            System.err.println("ragline demo: --timeout must be a positive number of seconds, not " + timeoutSeconds);
            return 2;
        }
        System.out.println("== 1. services (Postgres with pgvector, Kafka)");
        try {
            new DevStack(DevCommand.home(), System.getenv(), io.ragline.devstack.Progress.stderr()).up();
        } catch (DevStackException e) {
            System.err.println("ragline demo: " + e.getMessage());
            return 1;
        }
        String webhookSecret = newWebhookSecret();
        Env env = demoEnv(webhookSecret);
        var wiring = WorkerCommands.all(env);
        OperatorDatabase db = OperatorDatabase.read(env);
        EmbeddingSettings embedding = EmbeddingSettings.from(env);
        int webhookPort = env.port("RAGLINE_HTTP_PORT", WorkerCommands.ALL_HTTP_PORT);
        int consolePort = env.port(Console.CONSOLE_PORT, Console.DEFAULT_HTTP_PORT);
        try {
            env.validate();
        } catch (ConfigException e) {
            System.err.println("ragline demo: " + e.getMessage());
            return 2;
        }

        System.out.println(
                "== 2. workers (ingest-worker, embedding-worker, event-dispatcher, training-worker and the console in"
                        + " this JVM)");
        WorkerRuntime runtime =
                WorkerRuntime.start("demo", WorkerCommands.ALL_ADMIN_PORT, env).closeOnSignal();
        try {
            int code = DemoSteps.run(
                    runtime::isClosed,
                    runtime::exitCode,
                    steps(runtime, wiring, env, embedding, webhookPort, webhookSecret));
            if (code != 0 || runtime.isClosed() || exit) {
                return code;
            }
            System.out.println("\nWorkers keep running: try `./ragline search --collection demo \"...\"` or"
                    + " `./ragline collections list` in another terminal, or the console at http://127.0.0.1:"
                    + consolePort + "/ (its API under /api/v1, Swagger UI at /api/v1/docs/). Ctrl-C stops them"
                    + " (Postgres and Kafka stay up; `./ragline dev down` stops those).");
            runtime.awaitShutdown();
            return runtime.exitCode();
        } finally {
            runtime.close();
            System.out.println("demo stopped");
        }
    }

    /** A fresh Standard Webhooks secret for the demo source, used unless one is configured. */
    private static String newWebhookSecret() {
        byte[] key = new byte[24];
        new SecureRandom().nextBytes(key);
        return "whsec_" + Base64.getEncoder().encodeToString(key);
    }

    /** The environment, plus the demo webhook source where it is not configured. */
    private static Env demoEnv(String webhookSecret) {
        Map<String, String> values = new HashMap<>(Env.load().all());
        values.putIfAbsent("RAGLINE_WEBHOOK_DEMO_SCHEME", "standard");
        if (!values.containsKey("RAGLINE_WEBHOOK_DEMO_SECRET" + Env.FILE_SUFFIX)) {
            values.putIfAbsent("RAGLINE_WEBHOOK_DEMO_SECRET", webhookSecret);
        }
        return new Env(values);
    }

    /** Steps 2 (wiring) to 7 of the showcase, each stopping the run when it fails. */
    private List<DemoSteps.Step> steps(
            WorkerRuntime runtime,
            Consumer<WorkerRuntime> wiring,
            Env env,
            EmbeddingSettings embedding,
            int webhookPort,
            String webhookSecret) {
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        int[] published = {0};
        return List.of(
                new DemoSteps.Step(null, () -> {
                    createCollection(runtime);
                    createRoutingRule(runtime);
                    wiring.accept(runtime);
                    runtime.markStarted();
                    return true;
                }),
                new DemoSteps.Step("== 3. publishing real documents to collection '" + COLLECTION + "'", () -> {
                    published[0] = new PublishCommand().publish(env, List.of(corpus()), COLLECTION);
                    return published[0] >= 0;
                }),
                new DemoSteps.Step(
                        "== 4. waiting until every document is embedded",
                        () -> awaitEmbedded(runtime, published[0], timeout)),
                new DemoSteps.Step(
                        "== 5. a signed webhook (Standard Webhooks) into claude_events, routed to a document", () -> {
                            webhook(
                                    runtime,
                                    webhookPort,
                                    env.secret("RAGLINE_WEBHOOK_DEMO_SECRET")
                                            .map(Secret::reveal)
                                            .orElse(webhookSecret));
                            return true;
                        }),
                new DemoSteps.Step("== 6. searches", () -> {
                    search(runtime, embedding);
                    return true;
                }),
                new DemoSteps.Step("\n== 7. status", () -> {
                    status(runtime);
                    return true;
                }));
    }

    private static void search(WorkerRuntime runtime, EmbeddingSettings embedding) throws Exception {
        try (ProviderRegistry providers = new ProviderRegistry(embedding, runtime.dataSource())) {
            Searcher searcher =
                    new Searcher(runtime.dataSource(), new CollectionCatalog(Duration.ofSeconds(10)), providers);
            for (String q : QUERIES) {
                if (runtime.isClosed()) {
                    return;
                }
                System.out.println("\n\"" + q + "\"");
                SearchCommand.print(searcher.search(COLLECTION, q, 3, null));
            }
        }
    }

    /**
     * The routing rule {@value #RULE}: {@code demo.note} events of the {@code demo} source become
     * documents of the demo collection. Kept when it exists (an operator may have changed it).
     */
    private static void createRoutingRule(WorkerRuntime runtime) throws SQLException {
        try (Connection c = runtime.dataSource().getConnection();
                PreparedStatement s = c.prepareStatement("insert into routing_rules (name, source, event_type, action,"
                        + " paths, fixed, description) values (?, 'demo', 'demo.note', 'ingest_document', ?::jsonb,"
                        + " ?::jsonb, 'made by ragline demo') on conflict (name) do nothing")) {
            s.setString(1, RULE);
            s.setString(
                    2,
                    "{\"id\": \"/payload/data/id\", \"title\": \"/payload/data/title\","
                            + " \"content\": \"/payload/data/text\"}");
            s.setString(3, "{\"collection\": \"" + COLLECTION + "\"}");
            s.executeUpdate();
        }
    }

    static final String RULE = "demo-notes";

    private static void createCollection(WorkerRuntime runtime) throws SQLException {
        try (Connection c = runtime.dataSource().getConnection();
                PreparedStatement s =
                        c.prepareStatement("insert into collections (name) values (?) on conflict (name) do nothing")) {
            s.setString(1, COLLECTION);
            s.executeUpdate();
        }
    }

    /**
     * The demo's documents, gathered into one directory under {@code .ragline/demo-corpus}: the
     * project's README and docs (when run from the repository), the licences Debian ships, and the
     * text of a few manual pages when {@code man} is installed.
     */
    static Path corpus() throws IOException, InterruptedException {
        Path dir = DevCommand.home().resolve(".ragline/demo-corpus");
        Files.createDirectories(dir);
        List<Path> sources = new ArrayList<>();
        Path home = DevCommand.home();
        sources.add(home.resolve("README.md"));
        try (var docs = Files.list(home.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).forEach(sources::add);
        } catch (IOException noDocs) {
            // not run from the repository
        }
        try (var licences = Files.list(Path.of("/usr/share/common-licenses"))) {
            licences.filter(Files::isRegularFile).forEach(sources::add);
        } catch (IOException noLicences) {
            // not Debian
        }
        for (Path p : sources) {
            if (Files.isReadable(p)) {
                Files.copy(
                        p,
                        dir.resolve(p.getFileName().toString()),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        for (String page : MAN_PAGES) {
            try {
                ProcessBuilder pb = new ProcessBuilder("man", "-P", "cat", page).redirectErrorStream(true);
                pb.environment().put("MANWIDTH", "100");
                Process man = pb.start();
                byte[] text = man.getInputStream().readAllBytes();
                if (man.waitFor() == 0 && text.length > 200) {
                    Files.write(dir.resolve("man-" + page + ".txt"), text);
                }
            } catch (IOException noMan) {
                break; // man is not installed: the licences and docs are corpus enough
            }
        }
        return dir;
    }

    private static boolean awaitEmbedded(WorkerRuntime runtime, int expected, Duration timeout) throws Exception {
        ProgressBar bar = new ProgressBar("embedding", expected);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!runtime.isClosed()) {
            long embedded = 0;
            long failed = 0;
            try (Connection c = runtime.dataSource().getConnection();
                    PreparedStatement s = c.prepareStatement("select count(*) filter (where d.status = 'embedded'),"
                            + " count(*) filter (where d.status = 'failed') from documents d join collections c on"
                            + " c.id = d.collection_id where c.name = ?")) {
                s.setString(1, COLLECTION);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    embedded = rs.getLong(1);
                    failed = rs.getLong(2);
                }
            }
            bar.set(embedded + failed, Math.max(expected, embedded + failed));
            if (embedded + failed >= expected) {
                bar.done();
                if (failed > 0) {
                    System.out.println(failed + " documents failed: see `./ragline collections list`");
                }
                return true;
            }
            if (System.nanoTime() > deadline) {
                bar.done();
                System.err.println("ragline demo: not every document was embedded within " + timeout.toSeconds()
                        + " s (--timeout)");
                return false;
            }
            Thread.sleep(250);
        }
        return false;
    }

    private static void webhook(WorkerRuntime runtime, int port, String secret) throws Exception {
        String id = "msg_" + UUID.randomUUID();
        long timestamp = System.currentTimeMillis() / 1000;
        ObjectNode body = JSON.createObjectNode();
        body.put("type", "demo.note");
        body.putObject("data")
                .put("id", "webhook-note")
                .put("title", "A note that arrived by webhook")
                .put(
                        "text",
                        "This note was sent as a signed webhook, stored in claude_events, routed by the" + " rule "
                                + RULE + " to the documents topic, chunked and embedded like any document.");
        byte[] bytes = JSON.writeValueAsBytes(body);
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/demo"))
                                .header("content-type", "application/json")
                                .header("webhook-id", id)
                                .header("webhook-timestamp", Long.toString(timestamp))
                                .header(
                                        "webhook-signature",
                                        WebhookSigner.standard(Secret.of(secret), id, timestamp, bytes))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        System.out.println("POST /webhooks/demo -> " + response.statusCode() + " " + response.body());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String row = null;
        while (!runtime.isClosed() && System.nanoTime() < deadline) {
            try (Connection c = runtime.dataSource().getConnection();
                    PreparedStatement s = c.prepareStatement("select e.id, e.source, e.event_type, e.status,"
                            + " e.last_error, (select d.status from documents d join collections k on k.id ="
                            + " d.collection_id where k.name = ? and d.external_id = 'webhook-note') from claude_events e"
                            + " where e.delivery_id = ?")) {
                s.setString(1, COLLECTION);
                s.setString(2, id);
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        row = "claude_events row " + rs.getLong(1) + ": source " + rs.getString(2) + ", type "
                                + rs.getString(3) + ", status " + rs.getString(4)
                                + (rs.getString(5) == null ? "" : " (" + rs.getString(5) + ")")
                                + "; document webhook-note: " + (rs.getString(6) == null ? "not yet" : rs.getString(6));
                        if (DocumentStatus.EMBEDDED.stored().equals(rs.getString(6))
                                || ClaudeEventStatus.FAILED.stored().equals(rs.getString(4))
                                || ClaudeEventStatus.IGNORED.stored().equals(rs.getString(4))) {
                            break;
                        }
                    }
                }
            }
            Thread.sleep(250);
        }
        System.out.println(row == null ? "the webhook's claude_events row was not found" : row);
    }

    private static void status(WorkerRuntime runtime) throws SQLException {
        try (Connection c = runtime.dataSource().getConnection();
                var s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("select c.name, d.status, count(*), sum(d.chunk_count) from documents d"
                    + " join collections c on c.id = d.collection_id group by 1, 2 order by 1, 2")) {
                while (rs.next()) {
                    System.out.printf(
                            "documents %-10s %-9s %5d (%d chunks)%n",
                            rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4));
                }
            }
            try (ResultSet rs = s.executeQuery("select (select count(*) from chunk_embeddings),"
                    + " (select count(*) from outbox), (select count(*) from claude_events)")) {
                rs.next();
                System.out.printf(
                        "vectors %d, outbox rows waiting %d, claude_events %d%n",
                        rs.getLong(1), rs.getLong(2), rs.getLong(3));
            }
        }
    }
}
