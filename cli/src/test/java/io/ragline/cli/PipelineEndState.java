package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.console.system.ConsumerLag;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * What the pipeline tests that publish documents through faults assert at the end, in one place:
 * every document of the {@code default} collection embedded once at its newest version, its chunks
 * exactly its newest text's, one vector per chunk, the outbox empty, no consumer group with a record
 * after its offset committed in Kafka, nor with a record in a partition of its topics it never
 * committed (what Kafka's lag shows an operator: the workers commit to Kafka the offsets stored in
 * Postgres with the work, even those Kafka refused during a rebalance). {@code newest} maps a
 * document's id to the newest version the broker acknowledged, {@code newestText} to that
 * version's text. On a replicated cluster: every topic of the deployment has as many copies as
 * configured.
 */
final class PipelineEndState {
    private final PostgresSchema db;
    private final String bootstrapServers;

    PipelineEndState(PostgresSchema db, String bootstrapServers) {
        this.db = db;
        this.bootstrapServers = bootstrapServers;
    }

    /** The documents of the {@code default} collection, each with its {@code status || ' v' || version}. */
    private static final String DEFAULT_DOCUMENTS =
            "documents d join collections c on c.id = d.collection_id and c.name = 'default'";

    /** How many of {@code newest} are embedded at exactly their newest version now. */
    long embeddedAtNewest(Map<String, Long> newest) throws Exception {
        return embedded(newest, "=");
    }

    /** How many of {@code versions} are embedded at that version or a newer one now (searchable). */
    long embeddedAtOrAfter(Map<String, Long> versions) throws Exception {
        return embedded(versions, ">=");
    }

    private long embedded(Map<String, Long> versions, String comparison) throws Exception {
        if (versions.isEmpty()) {
            return 0;
        }
        StringBuilder values = new StringBuilder();
        versions.forEach((id, version) -> values.append(values.isEmpty() ? "" : ",")
                .append("('")
                .append(id.replace("'", "''"))
                .append("',")
                .append(version)
                .append(')'));
        return (long) db.queryValue("select count(*) from " + DEFAULT_DOCUMENTS + " join (values " + values
                + ") n(id, version) on n.id = d.external_id where d.status = 'embedded' and d.version " + comparison
                + " n.version");
    }

    /** Until every document is embedded at its newest version; {@code alive} fails at once if a process died. */
    void awaitEveryDocumentAtItsNewestVersion(Map<String, Long> newest, Duration within, CheckedRunnable alive) {
        await().atMost(within).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            alive.run();
            for (Map.Entry<String, Long> d : newest.entrySet()) {
                assertThat(db.queryValue("select d.status || ' v' || d.version from " + DEFAULT_DOCUMENTS
                                + " where d.external_id = '" + d.getKey() + "'"))
                        .as(d.getKey())
                        .isEqualTo("embedded v" + d.getValue());
            }
        });
    }

    /**
     * Exactly the published documents, each with its {@code chunk_count} of chunks, every chunk a
     * piece of the document's newest text, every chunk with a vector and every vector with a chunk.
     */
    void assertEachDocumentHasOneChunkSetAndOneVectorPerChunk(Map<String, String> newestText) throws Exception {
        assertThat(db.queryValue("select count(*) from " + DEFAULT_DOCUMENTS))
                .as("documents stored")
                .isEqualTo((long) newestText.size());
        assertThat(db.queryValue("select count(*) from " + DEFAULT_DOCUMENTS + " where d.chunk_count <> (select"
                        + " count(*) from chunks ch where ch.document_id = d.id) or d.chunk_count = 0"))
                .as("documents whose chunks are not exactly their chunk_count")
                .isEqualTo(0L);
        // A chunk whose text came again keeps its row (and document_version): its text is what counts.
        for (Map.Entry<String, String> d : newestText.entrySet()) {
            String text = collapsed(d.getValue());
            try (var c = db.connect();
                    var s = c.prepareStatement("select ch.content from chunks ch join " + DEFAULT_DOCUMENTS
                            + " on d.id = ch.document_id where d.external_id = ?")) {
                s.setString(1, d.getKey());
                try (var rs = s.executeQuery()) {
                    while (rs.next()) {
                        // A chunk is rendered as the model embeds it: the document's title, then its text.
                        String chunk = collapsed(rs.getString(1));
                        assertThat(chunk).startsWith(d.getKey() + " ");
                        assertThat(text)
                                .as("newest text of %s holds its chunk", d.getKey())
                                .contains(chunk.substring(d.getKey().length() + 1));
                    }
                }
            }
        }
        assertThat(db.queryValue("select count(*) from chunks ch where not exists (select 1 from chunk_embeddings e"
                        + " where e.chunk_id = ch.id)"))
                .as("chunks without a vector")
                .isEqualTo(0L);
        assertThat(db.queryValue("select count(*) from chunk_embeddings e where not exists (select 1 from chunks ch"
                        + " where ch.id = e.chunk_id)"))
                .as("vectors without a chunk")
                .isEqualTo(0L);
    }

    /** Until the outbox holds no row; and no row was given up into {@code outbox_dead_letters}. */
    void awaitOutboxEmpty(Duration within) throws Exception {
        await().atMost(within)
                .untilAsserted(() -> assertThat(db.queryValue("select count(*) from outbox"))
                        .as("outbox rows")
                        .isEqualTo(0L));
        assertThat(db.queryValue("select count(*) from outbox_dead_letters"))
                .as("outbox dead letters")
                .isEqualTo(0L);
    }

    /**
     * No consumer group of {@code groupPrefix} has a record after its offset committed in Kafka,
     * nor one in a partition of its topics that it never committed; {@code expected} have offsets.
     */
    void assertNoGroupLags(String groupPrefix, String... expected) {
        try (Admin admin = admin()) {
            ConsumerLag lag = new ConsumerLag(admin, groupPrefix, 10_000);
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                List<ConsumerLag.Lag> lags = lag.read();
                assertThat(lags)
                        .extracting(ConsumerLag.Lag::group)
                        .as("groups with committed offsets")
                        .contains(expected);
                assertThat(unread(admin, lags))
                        .as("records after the offsets committed in Kafka")
                        .isEmpty();
            });
        }
    }

    /**
     * Every topic whose name starts with {@code prefix} (the documents topic and its dead-letter
     * topic among them) has {@code copies} replicas of each partition.
     */
    void assertEveryTopicHasCopies(String prefix, int copies) throws Exception {
        try (Admin admin = admin()) {
            List<String> topics = admin.listTopics().names().get(10, TimeUnit.SECONDS).stream()
                    .filter(t -> t.startsWith(prefix))
                    .toList();
            assertThat(topics).contains(prefix + "documents", prefix + "documents.dlq");
            assertThat(admin.describeTopics(topics)
                            .allTopicNames()
                            .get(10, TimeUnit.SECONDS)
                            .values())
                    .allSatisfy(d -> assertThat(d.partitions())
                            .as(d.name())
                            .allSatisfy(p -> assertThat(p.replicas()).hasSize(copies)));
        }
    }

    /** The records in the {@code .dlq} topics whose names start with {@code prefix}, by topic. */
    Map<String, Long> deadLettered(String prefix) throws Exception {
        try (Admin admin = admin()) {
            List<String> dlqs = admin.listTopics().names().get(10, TimeUnit.SECONDS).stream()
                    .filter(t -> t.startsWith(prefix) && t.endsWith(".dlq"))
                    .toList();
            Map<TopicPartition, OffsetSpec> ask = new java.util.HashMap<>();
            admin.describeTopics(dlqs)
                    .allTopicNames()
                    .get(10, TimeUnit.SECONDS)
                    .values()
                    .forEach(d -> d.partitions()
                            .forEach(p -> ask.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest())));
            Map<String, Long> counts = new java.util.TreeMap<>();
            admin.listOffsets(ask).all().get(10, TimeUnit.SECONDS).forEach((tp, o) -> {
                if (o.offset() > 0) {
                    counts.merge(tp.topic(), o.offset(), Long::sum);
                }
            });
            return counts;
        }
    }

    /**
     * The records of each group's partitions after its offset committed in Kafka, and of the
     * partitions of its topics (those it committed or holds) that it never committed, from their
     * start. A partition written in transactions ends with a commit marker, which counts as one of
     * lag behind a consumer that committed the offset after its last record: no record is unread
     * there.
     */
    private List<String> unread(Admin admin, List<ConsumerLag.Lag> lags) throws Exception {
        Map<String, Map<TopicPartition, Long>> from = new TreeMap<>(); // -1: never committed
        lags.forEach(l -> from.computeIfAbsent(l.group(), g -> new HashMap<>())
                .put(new TopicPartition(l.topic(), l.partition()), l.committed()));
        for (Map.Entry<String, Map<TopicPartition, Long>> group : from.entrySet()) {
            Set<String> topics = new TreeSet<>();
            group.getValue().keySet().forEach(tp -> topics.add(tp.topic()));
            admin.describeConsumerGroups(List.of(group.getKey()))
                    .all()
                    .get(10, TimeUnit.SECONDS)
                    .get(group.getKey())
                    .members()
                    .forEach(m -> m.assignment().topicPartitions().forEach(tp -> topics.add(tp.topic())));
            admin.describeTopics(topics)
                    .allTopicNames()
                    .get(10, TimeUnit.SECONDS)
                    .values()
                    .forEach(d -> d.partitions()
                            .forEach(p ->
                                    group.getValue().putIfAbsent(new TopicPartition(d.name(), p.partition()), -1L)));
        }
        List<String> unread = new ArrayList<>();
        try (KafkaConsumer<String, String> c =
                KafkaTopics.consumer(bootstrapServers, "lag-check-" + UUID.randomUUID())) {
            for (Map.Entry<String, Map<TopicPartition, Long>> group : from.entrySet()) {
                for (Map.Entry<TopicPartition, Long> p : group.getValue().entrySet()) {
                    unread.addAll(unread(c, group.getKey(), p.getKey(), p.getValue()));
                }
            }
        }
        return unread;
    }

    /** The records of {@code tp} from {@code committed} (its start when -1) to its end, named for the report. */
    private List<String> unread(KafkaConsumer<String, String> c, String group, TopicPartition tp, long committed) {
        long end = c.endOffsets(List.of(tp)).get(tp);
        c.assign(List.of(tp));
        if (committed < 0) {
            c.seekToBeginning(List.of(tp));
        } else {
            c.seek(tp, committed);
        }
        if (c.position(tp) >= end) {
            return List.of();
        }
        String why = committed < 0
                ? "never committed in Kafka"
                : "committed in Kafka at " + committed + ", stored in Postgres with the work at "
                        + storedOffset(group, tp.topic(), tp.partition());
        List<String> unread = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (c.position(tp) < end) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("did not read " + tp + " up to " + end);
            }
            c.poll(Duration.ofMillis(200))
                    .forEach(r -> unread.add(group + ": " + tp + "@" + r.offset() + " (" + why + ")"));
        }
        return unread;
    }

    private long storedOffset(String group, String topic, int partition) {
        try {
            Object next = db.queryValue("select coalesce(max(next_offset), -1) from consumer_offsets where group_id = '"
                    + group + "' and topic = '" + topic + "' and partition = " + partition);
            return ((Number) next).longValue();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    private static String collapsed(String text) {
        return text.replaceAll("\\s+", " ").strip();
    }

    /** A check that may throw anything. */
    @FunctionalInterface
    interface CheckedRunnable {
        void run() throws Exception;
    }
}
