package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.devstack.Ports;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.ParagraphCorpus;
import io.ragline.testkit.ReplicatedPostgres;
import io.ragline.testkit.TestServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two {@code ragline all} processes (every worker, two outbox relays contending for the lease) on a
 * primary with a synchronous standby ({@link ReplicatedPostgres}), reached through a multi-host
 * {@code DATABASE_URL} with libpq's {@code target_session_attrs=read-write}. While documents are
 * published continuously, the primary is stopped immediately and, once the workers report it gone,
 * the standby is promoted: no process exits, and every document ends embedded once at its newest
 * version, every chunk with one vector, the outbox empty, each embedding announced by one outbox row.
 */
class PostgresFailoverIT {
    @RegisterExtension
    static final ReplicatedPostgres pg = new ReplicatedPostgres();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCHEMA = "failover_it";
    private static final int DOCUMENTS = 60;
    /** Documents published again (version 2) after every first version: half of them. */
    private static final int UPDATED = 30;

    @Test
    void everyWorkerSurvivesThePromotionOfASynchronousStandbyAndEveryDocumentEndsEmbeddedOnce() throws Exception {
        pg.migrate(SCHEMA);
        String workerPassword = pg.createLogin("failover_worker", "ragline_worker");
        String prefix = "failover" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Map<String, String> env = AllWorkers.env(Map.of(
                "DATABASE_URL",
                pg.url("failover_worker", workerPassword, "target_session_attrs=read-write&sslmode=disable"),
                "KAFKA_BOOTSTRAP_SERVERS",
                TestServices.get().kafkaBootstrapServers(),
                "RAGLINE_DB_SCHEMA",
                SCHEMA,
                "RAGLINE_MIGRATE_ON_START",
                "false",
                "RAGLINE_TOPIC_PREFIX",
                prefix,
                "RAGLINE_HTTP_HOST",
                "127.0.0.1"));
        List<Integer> adminPorts = List.of(Ports.free(), Ports.free());
        List<JavaProcess> workers = new ArrayList<>();
        for (int port : adminPorts) {
            Map<String, String> own = new HashMap<>(env);
            own.put("RAGLINE_ADMIN_PORT", String.valueOf(port));
            workers.add(CliProcess.start(own, "all"));
        }
        try {
            for (int port : adminPorts) {
                CliProcess.awaitReady(port, Duration.ofSeconds(120));
            }
            List<ParagraphCorpus.Document> docs = ParagraphCorpus.licences().documents("doc-", DOCUMENTS, 3, 20);
            Map<String, Long> newest = new ConcurrentHashMap<>();
            KafkaProducer<String, String> producer = KafkaTopics.producer();
            ScheduledExecutorService pace = Executors.newSingleThreadScheduledExecutor();
            CompletableFuture<Void> published = publish(producer, pace, records(prefix, docs), newest);

            await().atMost(Duration.ofSeconds(60)).until(() -> embeddedVersions(pg.primaryPort()) >= 10);
            failOver(adminPorts);

            published.get(60, TimeUnit.SECONDS);
            pace.shutdown();
            producer.close();
            assertEverythingEndsOnceOnThePromotedServer(prefix, newest);
            for (JavaProcess worker : workers) {
                assertThat(worker.process().isAlive())
                        .as("survived the failover; stderr:\n" + tail(worker))
                        .isTrue();
            }
        } finally {
            for (JavaProcess worker : workers) {
                worker.terminate();
            }
        }
        for (JavaProcess worker : workers) {
            assertThat(worker.waitFor(60)).as(tail(worker)).isZero();
            assertThat(worker.stdout() + worker.stderr()).doesNotContain(workerPassword);
        }
    }

    /**
     * Every document embedded at its newest version with one vector per chunk, the outbox drained,
     * each embedding announced by one outbox row, the lease held and a LISTEN session open: all on
     * the promoted server.
     */
    private static void assertEverythingEndsOnceOnThePromotedServer(String prefix, Map<String, Long> newest)
            throws Exception {
        assertThat(newest).hasSize(DOCUMENTS);
        await("every document embedded at its newest version")
                .atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> embeddedAtNewest(newest) == DOCUMENTS);
        await("the outbox drained")
                .atMost(Duration.ofSeconds(30))
                .until(() -> (long) pg.query(pg.standbyPort(), "select count(*) from " + SCHEMA + ".outbox") == 0);

        assertEveryChunkHasOneVector();
        assertEachEmbeddingAnnouncedByOneOutboxRow(prefix, newest);
        assertThat(pg.query(
                        pg.standbyPort(),
                        "select count(*) from " + SCHEMA + ".dispatcher_leases where expires_at > now()"))
                .as("the outbox lease, re-taken on the promoted server")
                .isEqualTo(1L);
        assertThat(pg.query(
                        pg.standbyPort(),
                        "select count(*) from pg_stat_activity where application_name ="
                                + " 'ragline-event-dispatcher-listen' and query ilike 'listen%'"))
                .as("a LISTEN session on the promoted server")
                .isEqualTo(1L);
    }

    /**
     * Stops the primary immediately, waits until every process's readiness says the database is
     * gone, promotes the standby, and waits for progress (an embedding committed on the promoted
     * server) and for every process to be ready again; prints how long each took.
     */
    private static void failOver(List<Integer> adminPorts) throws Exception {
        long stoppedAt = System.nanoTime();
        pg.stopPrimaryImmediately();
        await("every process reports the database gone")
                .atMost(Duration.ofSeconds(30))
                .until(() -> adminPorts.stream().noneMatch(CliProcess::ready));
        long unreadyAfter = millisSince(stoppedAt);
        long promoteFrom = System.nanoTime();
        pg.promoteStandby();
        long promotedAt = System.nanoTime();
        long atPromotion = embeddedVersions(pg.standbyPort());
        await("progress after the promotion")
                .atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> embeddedVersions(pg.standbyPort()) > atPromotion);
        long progressAfter = millisSince(promotedAt);
        for (int port : adminPorts) {
            CliProcess.awaitReady(port, Duration.ofSeconds(30));
        }
        long readyAfter = millisSince(promotedAt);
        System.out.printf(
                "postgres failover: processes unready %d ms after the primary stopped; pg_ctl promote took %d ms;"
                        + " progress resumed %d ms after the promotion (%d embedded versions before it);"
                        + " both processes ready again after %d ms%n",
                unreadyAfter, (promotedAt - promoteFrom) / 1_000_000, progressAfter, atPromotion, readyAfter);
    }

    /** Every document's first version, then the second version of the first {@value #UPDATED}. */
    private static List<ProducerRecord<String, String>> records(String prefix, List<ParagraphCorpus.Document> docs) {
        ParagraphCorpus corpus = ParagraphCorpus.licences();
        List<ProducerRecord<String, String>> records = new ArrayList<>();
        for (ParagraphCorpus.Document d : docs) {
            records.add(record(prefix, d, 1));
        }
        for (ParagraphCorpus.Document d : docs.subList(0, UPDATED)) {
            records.add(record(prefix, corpus.edited(d, 1, 7), 2));
        }
        return records;
    }

    /**
     * Sends {@code records} one every 100 ms (about 9 s in all), each acknowledged before its
     * document's newest version is recorded in {@code newest}; completes after the last one.
     */
    private static CompletableFuture<Void> publish(
            KafkaProducer<String, String> producer,
            ScheduledExecutorService pace,
            List<ProducerRecord<String, String>> records,
            Map<String, Long> newest) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicInteger next = new AtomicInteger();
        pace.scheduleAtFixedRate(
                () -> {
                    int i = next.getAndIncrement();
                    if (i >= records.size()) {
                        done.complete(null);
                        return;
                    }
                    try {
                        ProducerRecord<String, String> r = records.get(i);
                        producer.send(r).get();
                        newest.merge(
                                r.key(), JSON.readTree(r.value()).get("version").asLong(), Math::max);
                    } catch (Exception e) {
                        done.completeExceptionally(e);
                    }
                },
                0,
                100,
                TimeUnit.MILLISECONDS);
        return done;
    }

    private static ProducerRecord<String, String> record(String prefix, ParagraphCorpus.Document d, long version) {
        return DocumentRecords.upsert(prefix, d, version);
    }

    /** The sum of the versions of embedded documents: grows with every embedding committed. */
    private static long embeddedVersions(int port) {
        try {
            Object sum = pg.query(
                    port,
                    "select coalesce(sum(version), 0)::bigint from " + SCHEMA + ".documents where status = 'embedded'");
            return (long) sum;
        } catch (Exception e) {
            return -1;
        }
    }

    private static long embeddedAtNewest(Map<String, Long> newest) throws Exception {
        StringBuilder values = new StringBuilder();
        newest.forEach((key, version) -> values.append(values.isEmpty() ? "" : ",")
                .append("('")
                .append(key.substring(key.indexOf('/') + 1))
                .append("',")
                .append(version)
                .append(')'));
        return (long) pg.query(
                pg.standbyPort(),
                "select count(*) from " + SCHEMA + ".documents d join (values " + values
                        + ") n(id, version) on n.id = d.external_id where d.status = 'embedded' and d.version ="
                        + " n.version");
    }

    private static void assertEveryChunkHasOneVector() throws Exception {
        long chunks = (long) pg.query(pg.standbyPort(), "select count(*) from " + SCHEMA + ".chunks");
        assertThat(chunks).isGreaterThanOrEqualTo(DOCUMENTS);
        assertThat(pg.query(pg.standbyPort(), "select count(*) from " + SCHEMA + ".chunk_embeddings"))
                .isEqualTo(chunks);
        assertThat(pg.query(
                        pg.standbyPort(),
                        "select count(*) from " + SCHEMA + ".chunks c where not exists (select 1 from " + SCHEMA
                                + ".chunk_embeddings e where e.chunk_id = c.id)"))
                .isEqualTo(0L);
    }

    /**
     * Every newest version has its {@code document.embedded} event, and each (document, version) is
     * announced by one outbox row: a relay that republishes after an unknown commit outcome sends
     * the same {@code ragline.outbox.id} again, which a consumer recognises, but a second embedding
     * would have written a second row.
     */
    private static void assertEachEmbeddingAnnouncedByOneOutboxRow(String prefix, Map<String, Long> newest)
            throws Exception {
        List<ConsumerRecord<String, String>> events =
                KafkaTopics.readAll(prefix + "pipeline-events", Duration.ofSeconds(60));
        Map<String, Set<String>> outboxIds = new HashMap<>();
        for (ConsumerRecord<String, String> r : events) {
            JsonNode event = JSON.readTree(r.value());
            if (!"document.embedded".equals(event.path("type").asText())) {
                continue;
            }
            Header id = r.headers().lastHeader("ragline.outbox.id");
            outboxIds
                    .computeIfAbsent(r.key() + "@" + event.get("version").asLong(), k -> new HashSet<>())
                    .add(id == null ? "none" : new String(id.value(), StandardCharsets.UTF_8));
        }
        newest.forEach((key, version) -> assertThat(outboxIds).containsKey(key + "@" + version));
        outboxIds.forEach((key, ids) -> assertThat(ids).as(key).hasSize(1));
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    private static String tail(JavaProcess p) {
        try {
            String err = p.stderr();
            return err.substring(Math.max(0, err.length() - 6000));
        } catch (Exception e) {
            return e.toString();
        }
    }
}
