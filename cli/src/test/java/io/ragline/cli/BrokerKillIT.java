package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.consumer.DeadLetters;
import io.ragline.core.kafka.KafkaClientProperties;
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.core.kafka.TopicAdmin;
import io.ragline.devstack.Ports;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaCluster;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.ParagraphCorpus;
import io.ragline.testkit.ParagraphCorpus.Document;
import io.ragline.testkit.PostgresSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The pipeline ({@code ragline all} as a real process) on a three-broker cluster (replication
 * factor 3, {@code min.insync.replicas=2}) while documents are published continuously: a broker
 * leading partitions (not the active controller) gets SIGKILL mid-stream and is started again,
 * later the active controller gets SIGTERM and is started again; each time, a version published
 * while the broker is down must be embedded before it comes back.
 * Nothing is lost or duplicated: every document ends embedded once at its newest version, the
 * outbox drains, and no consumer group lags. On the same cluster: the topics a worker creates get
 * three copies, and so do their dead-letter topics.
 */
class BrokerKillIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @RegisterExtension
    static final KafkaCluster kafka = new KafkaCluster();

    private static final int DOCUMENTS = 30;
    private static final Duration PUBLISH_EVERY = Duration.ofMillis(150);

    private final Map<String, Long> newest = new ConcurrentHashMap<>();
    private final Map<String, String> newestText = new ConcurrentHashMap<>();
    private final Queue<String> failedSends = new ConcurrentLinkedQueue<>();
    /** Documents no longer published: their newest version is one the cluster took during a fault. */
    private final Set<String> frozen = ConcurrentHashMap.newKeySet();

    /** Embedded versions summed: grows whenever a newer version of any document is embedded. */
    private static long progress() throws Exception {
        return ((Number) db.queryValue("select coalesce(sum(version), 0) from documents where status = 'embedded'"))
                .longValue();
    }

    /** Fails at once, with the process's output, if it exited. */
    private static void assertAlive(JavaProcess p) throws Exception {
        if (!p.process().isAlive()) {
            throw new AssertionError("ragline all exited with " + p.process().exitValue() + "\nstdout:\n" + p.stdout()
                    + "\nstderr:\n" + p.stderr());
        }
    }

    /**
     * Until a version published after broker {@code down} went down (a whole round of documents
     * later than what was sent by then) is embedded: the whole pipeline works without that broker.
     * The process answers ready while the broker is down.
     */
    private void awaitProgressWithout(
            int down, JavaProcess pipeline, int adminPort, List<Document> documents, int sentBefore) throws Exception {
        int n = sentBefore + DOCUMENTS;
        while (frozen.contains(documents.get(n % DOCUMENTS).id())) {
            n++;
        }
        String id = documents.get(n % DOCUMENTS).id();
        long version = n / DOCUMENTS + 1;
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    assertAlive(pipeline);
                    assertThat(db.queryValue("select count(*) from documents where external_id = '" + id
                                    + "' and status = 'embedded' and version >= " + version))
                            .as(
                                    "%s embedded at version %d or newer, published while broker %d is down",
                                    id, version, down)
                            .isEqualTo(1L);
                });
        CliProcess.awaitReady(adminPort, Duration.ofSeconds(30));
    }

    @Test
    void documentsPublishedWhileBrokersAreKilledAndStoppedAreEachEmbeddedOnceAtTheirNewestVersion() throws Exception {
        String prefix = "bk" + UUID.randomUUID().toString().substring(0, 8) + ".";
        int adminPort = Ports.free();
        Map<String, String> env = AllWorkers.env(db.env());
        env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_TOPIC_REPLICATION_FACTOR", "3");
        env.put("RAGLINE_ADMIN_PORT", String.valueOf(adminPort));
        JavaProcess pipeline = CliProcess.start(env, "all");
        ScheduledExecutorService publisher = Executors.newSingleThreadScheduledExecutor();
        try (KafkaProducer<String, String> producer = KafkaTopics.producer(kafka.bootstrapServers())) {
            CliProcess.awaitReady(adminPort, Duration.ofMinutes(2));
            List<Document> documents = ParagraphCorpus.licences().documents("doc-", DOCUMENTS, 3, 20);
            AtomicInteger sent = new AtomicInteger();
            publisher.scheduleAtFixedRate(
                    () -> publishNext(producer, prefix, documents, sent.getAndIncrement()),
                    0,
                    PUBLISH_EVERY.toMillis(),
                    TimeUnit.MILLISECONDS);
            await().atMost(Duration.ofMinutes(2)).until(() -> progress() > 0);

            // SIGKILL to a broker that leads partitions but is not the active controller; SIGTERM,
            // later, to the controller. A SIGKILLed controller is a slower failover, and on a loaded
            // machine a much slower one: seen once (load 29 on 2 cores) with no document embedded
            // for 90 s while the new controller's events took seconds each.
            int controller = kafka.activeController();
            int leader = kafka.leaderOf(prefix + "documents", 0).orElseThrow();
            int killed = leader != controller ? leader : controller % kafka.brokers() + 1;
            int frozenDuringKill = throughFault(killed, kafka::kill, 0, pipeline, adminPort, documents, sent);
            int frozenDuringStop =
                    throughFault(kafka.activeController(), kafka::terminate, 1, pipeline, adminPort, documents, sent);

            publisher.shutdown();
            assertThat(publisher.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            producer.flush();
            assertThat(failedSends).as("sends the cluster refused").isEmpty();
            assertThat(sent.get()).as("versions published").isGreaterThan(2 * DOCUMENTS);
            // Half the documents end at a version published while a broker was killed, half at one
            // published while another was stopped: a record lost in a fault is not overwritten later.
            assertThat(frozenDuringKill)
                    .as("documents last published during the SIGKILL")
                    .isPositive();
            assertThat(frozenDuringStop)
                    .as("documents last published during the SIGTERM")
                    .isPositive();

            PipelineEndState end = new PipelineEndState(db, kafka.bootstrapServers());
            assertThat(newest).hasSize(DOCUMENTS);
            end.awaitEveryDocumentAtItsNewestVersion(newest, Duration.ofMinutes(2), () -> assertAlive(pipeline));
            end.assertEachDocumentHasOneChunkSetAndOneVectorPerChunk(newestText);
            end.awaitOutboxEmpty(Duration.ofSeconds(60));
            end.assertNoGroupLags("ragline", "ragline-documents", "ragline-embedding-requests");
            assertEveryTopicOfTheDeploymentHasThreeCopies(prefix);
            assertAlive(pipeline);
            pipeline.terminate();
            assertThat(pipeline.waitFor(60)).isZero();
        } finally {
            publisher.shutdownNow();
            if (pipeline.process().isAlive()) {
                pipeline.kill();
            }
        }
    }

    /**
     * What a worker creates at start-up, asked of a cluster of several brokers: a topic just
     * created may be unknown yet to the broker asked next, and its dead-letter topic must not be
     * left to the broker's defaults for that.
     */
    @Test
    void topicsAWorkerCreatesGetThreeCopiesConfiguredOrByDefaultAndSoDoTheirDeadLetterTopics() throws Exception {
        for (int replication : new int[] {3, KafkaSettings.REPLICATION_FROM_BROKER}) {
            List<String> topics = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String topic =
                        "rf" + replication + "-" + UUID.randomUUID().toString().substring(0, 8);
                new TopicAdmin(kafka.bootstrapServers(), KafkaClientProperties.none(), replication)
                        .ensure(List.of(topic));
                topics.add(topic);
                topics.add(DeadLetters.topicOf(topic));
            }
            try (Admin admin = admin()) {
                await().atMost(Duration.ofSeconds(30))
                        .ignoreExceptions()
                        .untilAsserted(() -> assertThat(admin.describeTopics(topics)
                                        .allTopicNames()
                                        .get(10, TimeUnit.SECONDS)
                                        .values())
                                .hasSize(topics.size())
                                .allSatisfy(d -> assertThat(d.partitions())
                                        .as(d.name())
                                        .hasSize(TopicAdmin.DEFAULT_PARTITIONS)
                                        .allSatisfy(
                                                p -> assertThat(p.replicas()).hasSize(3))));
            }
        }
    }

    /**
     * Publishes the {@code n}-th version: documents in turn, each a version higher than last time
     * with one paragraph replaced, and records the newest version the cluster acknowledged.
     */
    /**
     * One fault: {@code fault} takes broker {@code broker} down; the pipeline must embed a version
     * published after that and answer ready; the documents of index parity {@code parity} that got a
     * version meanwhile stop there; then the broker is started again and every partition waits for
     * its full ISR. Returns how many documents stopped at a version published during the fault.
     */
    private int throughFault(
            int broker,
            IntConsumer fault,
            int parity,
            JavaProcess pipeline,
            int adminPort,
            List<Document> documents,
            AtomicInteger sent)
            throws Exception {
        Map<String, Long> before = Map.copyOf(newest);
        fault.accept(broker);
        awaitProgressWithout(broker, pipeline, adminPort, documents, sent.get());
        int frozenNow = freezeUpdatedSince(before, parity, documents);
        kafka.restart(broker);
        kafka.awaitFullIsr(Duration.ofSeconds(90));
        return frozenNow;
    }

    /**
     * Stops publishing the documents of index parity {@code parity} that had a version acknowledged
     * since {@code before}: their newest version is one the cluster took during the fault.
     */
    private int freezeUpdatedSince(Map<String, Long> before, int parity, List<Document> documents) {
        int n = 0;
        for (int i = parity; i < documents.size(); i += 2) {
            String id = documents.get(i).id();
            if (newest.getOrDefault(id, 0L) > before.getOrDefault(id, 0L) && frozen.add(id)) {
                n++;
            }
        }
        return n;
    }

    private void publishNext(KafkaProducer<String, String> producer, String prefix, List<Document> documents, int n) {
        Document base = documents.get(n % documents.size());
        if (frozen.contains(base.id())) {
            return;
        }
        long version = n / documents.size() + 1;
        Document d = version == 1 ? base : ParagraphCorpus.licences().edited(base, 1, n);
        producer.send(DocumentRecords.upsert(prefix, d, version), (metadata, e) -> {
            if (e == null) {
                if (newest.merge(d.id(), version, Math::max) == version) {
                    newestText.put(d.id(), d.text()); // callbacks run on the producer's one I/O thread, in order
                }
            } else {
                failedSends.add(d.id() + " v" + version + ": " + e);
            }
        });
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }

    private static void assertEveryTopicOfTheDeploymentHasThreeCopies(String prefix) throws Exception {
        try (Admin admin = admin()) {
            List<String> topics = admin.listTopics().names().get(10, TimeUnit.SECONDS).stream()
                    .filter(t -> t.startsWith(prefix))
                    .toList();
            assertThat(topics).contains(prefix + "documents", prefix + "documents.dlq");
            Map<String, TopicDescription> described =
                    admin.describeTopics(topics).allTopicNames().get(10, TimeUnit.SECONDS);
            assertThat(described.values())
                    .allSatisfy(d -> assertThat(d.partitions())
                            .as(d.name())
                            .allSatisfy(p -> assertThat(p.replicas()).hasSize(3)));
        }
    }
}
