package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.testkit.KafkaCluster;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TcpProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The chaos soak: a scaled deployment (3 ingest-workers, 3 embedding-workers, 2 event-dispatchers,
 * 2 training-workers, each replica its own {@code ragline <kind>} process with its own stable group
 * instance id) on a three-broker cluster, Postgres reached through a TCP proxy. Documents (new and
 * newer versions), signed webhooks and training requests flow continuously while {@link ChaosFaults}
 * SIGKILLs or SIGTERMs a random worker, kills a broker or cuts Postgres, one fault every few seconds.
 * At the end nothing is lost or duplicated: every document embedded once at its newest version,
 * every webhook answered 2xx stored once and routed once, every training request one finished job,
 * the outbox empty, no dead letter, no consumer group behind, no secret printed.
 *
 * <p>The figures (versions/s, faults by kind, publish→searchable during faults, the longest stall,
 * the time from the last fault until everything is done) are printed and written to {@code
 * target/chaos-soak-report.txt}, never asserted. The short form runs in CI; {@code
 * -Dchaos.seconds=900} (and {@code -Dchaos.seed=N} to replay a run's choice of faults) is the long
 * form run by hand: docs/architecture.md ("Chaos soak").
 */
class ChaosSoakIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @RegisterExtension
    static final KafkaCluster kafka = new KafkaCluster();

    private static final Duration FAULTS = Duration.ofSeconds(Long.getLong("chaos.seconds", 75));
    private static final long SEED = Long.getLong("chaos.seed", new Random().nextLong());
    private static final int DOCUMENTS = Integer.getInteger("chaos.documents", 40);
    private static final Duration DOCUMENT_EVERY = Duration.ofMillis(Long.getLong("chaos.document.ms", 400));
    private static final Duration WEBHOOK_EVERY = Duration.ofMillis(500);
    private static final Duration TRAINING_EVERY = Duration.ofSeconds(4);
    private static final String WEBHOOK_SECRET = "chaos-webhook-" + UUID.randomUUID();
    private static final String RULES =
            "{\"rules\": [{\"name\": \"pushes\", \"match\": \"github/push\", \"action\": \"record\"}]}";

    private static final List<ChaosWorkers.Kind> DEPLOYMENT = List.of(
            new ChaosWorkers.Kind("ingest-worker", 3),
            new ChaosWorkers.Kind("embedding-worker", 3),
            new ChaosWorkers.Kind("event-dispatcher", 2),
            new ChaosWorkers.Kind("training-worker", 2));

    private volatile boolean faulting;

    @Test
    void nothingIsLostOrDuplicatedWhileWorkersBrokersAndPostgresConnectionsFailEveryFewSeconds() throws Exception {
        System.out.printf(
                "chaos soak: seed %d (-Dchaos.seed=%d replays the faults), %d s of faults%n",
                SEED, SEED, FAULTS.toSeconds());
        String prefix = "chaos" + UUID.randomUUID().toString().substring(0, 8) + ".";
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            TwoKindsCorpus.insert(s);
        }
        Path rules = Files.createTempFile("chaos-rules", ".json");
        Files.writeString(rules, RULES);
        Random random = new Random(SEED);
        try (TcpProxy postgres = TcpProxy.forDatabase();
                ChaosWorkers workers = new ChaosWorkers(env(prefix, postgres, rules), DEPLOYMENT);
                KafkaProducer<String, String> producer = KafkaTopics.producer(kafka.bootstrapServers());
                ChaosLoad load = new ChaosLoad(
                        producer,
                        prefix,
                        DOCUMENTS,
                        SEED,
                        WEBHOOK_SECRET,
                        ChaosLoad.anyOf(
                                workers.of("ingest-worker").stream()
                                        .map(r -> r.httpPort)
                                        .toList(),
                                random),
                        () -> faulting);
                ChaosProgress progress = new ChaosProgress(db, load);
                ChaosFaults faults = new ChaosFaults(SEED, workers, kafka, postgres)) {
            await("every worker ready").atMost(Duration.ofMinutes(4)).untilAsserted(() -> {
                for (ChaosWorkers.Replica r : workers.all()) {
                    assertThat(r.crashed())
                            .as("exited at start-up:\n%s", ChaosWorkers.tail(r, 4000))
                            .isFalse();
                    assertThat(CliProcess.ready(r.adminPort))
                            .as(() -> r + " ready; its log ends:\n" + ChaosWorkers.tail(r, 4000))
                            .isTrue();
                }
            });
            progress.start();
            load.start(DOCUMENT_EVERY, WEBHOOK_EVERY, TRAINING_EVERY);
            await("a first document embedded")
                    .atMost(Duration.ofMinutes(2))
                    .until(() -> progress.versionsEmbedded() > 0);

            faulting = true;
            long embeddedBefore = progress.versionsEmbedded();
            long lastRepair = faults.run(FAULTS).get(FAULTS.toSeconds() + 900, TimeUnit.SECONDS);
            faulting = false;
            long faultNanos = lastRepair - faults.startedNanos();
            long embeddedDuring = progress.versionsEmbedded() - embeddedBefore;
            long stall = progress.longestStallMs(faults.startedNanos(), lastRepair, false);
            long embeddingStall = progress.longestStallMs(faults.startedNanos(), lastRepair, true);
            load.stopNew();

            PipelineEndState end = new PipelineEndState(db, kafka.bootstrapServers());
            await("everything published is done")
                    .atMost(Duration.ofMinutes(5))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        faults.restartCrashed();
                        return load.redeliverWebhooks() && everythingDone(end, load);
                    });
            long doneAfter = (System.nanoTime() - lastRepair) / 1_000_000;

            String report =
                    report(faults, load, progress, faultNanos, embeddedDuring, stall, embeddingStall, doneAfter);
            for (String failure : faults.startupFailures()) {
                report += "  " + failure + System.lineSeparator();
            }
            System.out.print(report);
            Files.writeString(Path.of("target", "chaos-soak-report.txt"), report);

            assertThat(load.failedSends).as("sends the cluster refused").isEmpty();
            assertThat(load.newest).as("documents published").hasSize(DOCUMENTS);
            end.awaitEveryDocumentAtItsNewestVersion(load.newest, Duration.ofSeconds(30), () -> {});
            end.assertEachDocumentHasOneChunkSetAndOneVectorPerChunk(load.newestText);
            assertEveryAcceptedWebhookStoredAndRoutedOnce(load);
            assertEveryTrainingRequestHasOneFinishedJob(load);
            end.awaitOutboxEmpty(Duration.ofSeconds(30));
            assertThat(end.deadLettered(prefix)).as("dead-lettered records").isEmpty();
            end.assertNoGroupLags(
                    "ragline",
                    "ragline-documents",
                    "ragline-embedding-requests",
                    "ragline-routing",
                    "ragline-training");
            assertThat(faults.crashes())
                    .as("ready workers that exited by themselves")
                    .isEmpty();
            assertThat(faults.cleanStopFailures())
                    .as("ready workers whose SIGTERM did not end in exit 0")
                    .isEmpty();
            assertNoSecretPrinted(workers);
        } finally {
            Files.deleteIfExists(rules);
        }
    }

    /** Every process's environment but its ports and group instance id. */
    private static Map<String, String> env(String prefix, TcpProxy postgres, Path rules) {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("DATABASE_URL", postgres.databaseUrl(db.databaseUrl()));
        env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_TOPIC_REPLICATION_FACTOR", "3");
        env.put("RAGLINE_HTTP_HOST", "127.0.0.1");
        env.put("RAGLINE_DB_POOL_SIZE", "4");
        // Ten JVMs starting at once on two loaded cores: the start-up checks get a minute, not 10 s.
        env.put("RAGLINE_STARTUP_TIMEOUT", "60s");
        env.put("RAGLINE_ONNX_THREADS", "1");
        env.put("RAGLINE_WEBHOOK_THREADS", "2");
        env.put("RAGLINE_WEBHOOK_GITHUB_SCHEME", "github");
        env.put("RAGLINE_WEBHOOK_GITHUB_SECRET", WEBHOOK_SECRET);
        env.put("RAGLINE_ROUTING_RULES", rules.toString());
        env.put("RAGLINE_TRAINING_HEARTBEAT", "1s");
        env.put("RAGLINE_TRAINING_STALE_AFTER", "3s");
        env.put("RAGLINE_TRAINING_SCHEDULER", "off");
        env.put("RAGLINE_TRAINING_PREDICT", "false");
        env.put("RAGLINE_RETENTION_SCHEDULER", "off");
        return env;
    }

    /** Whether every acknowledged thing has reached its end: the condition the recovery time is measured to. */
    private static boolean everythingDone(PipelineEndState end, ChaosLoad load) throws Exception {
        return end.embeddedAtNewest(load.newest) == load.newest.size()
                && allFinished(
                        "claude_events where source = 'github'",
                        "('processed', 'ignored', 'failed')",
                        load.acceptedWebhooks.size())
                && allFinished(
                        "training_jobs where request_id like 'chaos-training-%'",
                        "('succeeded', 'failed', 'cancelled')", load.trainingRequests.size())
                && (long) db.queryValue("select count(*) from outbox") == 0;
    }

    /** At least {@code expected} rows of {@code rows}, every one in one of the {@code finished} statuses. */
    private static boolean allFinished(String rows, String finished, int expected) throws Exception {
        return (boolean) db.queryValue("select count(*) >= " + expected + " and count(*) filter (where status not in "
                + finished + ") = 0 from " + rows);
    }

    private static void assertEveryAcceptedWebhookStoredAndRoutedOnce(ChaosLoad load) throws Exception {
        Map<String, String> stored = new HashMap<>();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select delivery_id, status || ' attempts ' || attempts from"
                        + " claude_events where source = 'github'")) {
            while (rs.next()) {
                assertThat(stored.put(rs.getString(1), rs.getString(2)))
                        .as("a second row of delivery %s", rs.getString(1))
                        .isNull();
            }
        }
        assertThat(load.acceptedWebhooks).isNotEmpty();
        for (String delivery : load.acceptedWebhooks) {
            assertThat(stored.get(delivery)).as("webhook %s", delivery).isEqualTo("processed attempts 1");
        }
    }

    private static void assertEveryTrainingRequestHasOneFinishedJob(ChaosLoad load) throws Exception {
        Map<String, String> jobs = new HashMap<>();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select request_id, count(*), min(status) from training_jobs"
                        + " where request_id like 'chaos-training-%' group by request_id")) {
            while (rs.next()) {
                assertThat(rs.getLong(2)).as("jobs of %s", rs.getString(1)).isEqualTo(1L);
                jobs.put(rs.getString(1), rs.getString(3));
            }
        }
        assertThat(load.trainingRequests).isNotEmpty();
        assertThat(jobs.keySet()).as("requests with a job").containsExactlyInAnyOrderElementsOf(load.trainingRequests);
        assertThat(jobs.values())
                .as("job statuses")
                .allSatisfy(status -> assertThat(status).isIn("succeeded", "failed", "cancelled"));
    }

    /** No secret in any output: the database login's password and the webhook secret. */
    private static void assertNoSecretPrinted(ChaosWorkers workers) throws Exception {
        String output = workers.allOutput();
        assertThat(output).isNotEmpty();
        assertThat(output).doesNotContain(WEBHOOK_SECRET);
        java.util.regex.Matcher password =
                java.util.regex.Pattern.compile("://[^:/@]+:([^@]+)@").matcher(db.databaseUrl());
        assertThat(password.find())
                .as("the worker login's URL holds its password")
                .isTrue();
        assertThat(output).doesNotContain(password.group(1));
    }

    private static String report(
            ChaosFaults faults,
            ChaosLoad load,
            ChaosProgress progress,
            long faultNanos,
            long embeddedDuring,
            long stallMs,
            long embeddingStallMs,
            long doneAfterMs)
            throws Exception {
        double seconds = faultNanos / 1e9;
        return String.format(
                "chaos soak report (%s)%n  seed %d; %d documents, a version every %d ms, a webhook every %d ms,"
                        + " a training request every %d s%n  faults over %.0f s: %s; workers that exited by themselves: %d; restarts that failed while starting (an outage): %d; SIGTERMs to a worker still starting: %d%n"
                        + "  versions made searchable during faults: %d (%.2f/s); versions published: %d%n"
                        + "  publish->searchable during faults: p50 %d ms, p99 %d ms (%d versions)%n"
                        + "  longest stretch without progress during faults: %d ms (without a newer version embedded: %d ms)%n"
                        + "  from the last fault repaired until everything was done: %d ms%n"
                        + "  webhooks: %d sent, %d accepted, %d refused or unanswered (sent again); training"
                        + " requests: %d%n  sampler's last error: %s%n",
                Instant.now(),
                SEED,
                DOCUMENTS,
                DOCUMENT_EVERY.toMillis(),
                WEBHOOK_EVERY.toMillis(),
                TRAINING_EVERY.toSeconds(),
                seconds,
                faults.survived(),
                faults.crashes().size(),
                faults.startupFailures().size(),
                faults.termsWhileStarting(),
                embeddedDuring,
                embeddedDuring / seconds,
                load.versionsSent.get(),
                progress.latencyPercentile(50),
                progress.latencyPercentile(99),
                progress.latencies(),
                stallMs,
                embeddingStallMs,
                doneAfterMs,
                load.webhooksSent(),
                load.acceptedWebhooks.size(),
                load.refusedWebhooks.get(),
                load.trainingRequests.size(),
                progress.lastError().isEmpty() ? "none" : progress.lastError());
    }
}
