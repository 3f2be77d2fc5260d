package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.devstack.Command;
import io.ragline.devstack.postgres.PostgresInstallation;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.ScratchDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The recipe of docs/operations.md, "Backup and restore", run as written: a database of its own on
 * the dev server, migrated by its owner, the pipeline ({@code ragline all}) running as a real
 * process on a {@code ragline_worker} login; {@code pg_dump} of the schema while documents flow;
 * {@code pg_restore} into a new database by an owner that is no superuser; {@code ragline migrate}
 * and the outbox sequence's jump there; the consumer groups set back to the offsets the dump
 * holds; the pipeline on the restored database. The restored documents are the dump's, unchanged;
 * what was consumed after the dump is applied again from Kafka; the dump's outbox rows are
 * published a second time, harmlessly; new documents flow. Two model loads (one pipeline per
 * database) dominate its time.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RestoreFromDumpIT {
    private static final String SCHEMA = "rag";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient http = HttpClient.newHttpClient();

    private static final Map<String, String> THEMES = Map.of(
            "penguins", "Emperor penguins huddle together on the Antarctic sea ice through the polar winter.",
            "volcano", "Lava flowed from the erupting volcano and buried the village below the crater.",
            "bread", "Knead the sourdough, let it rise overnight, then bake the loaf in a hot oven.",
            "chess", "The grandmaster sacrificed her queen to force checkmate in three moves.",
            "violin", "The violinist tuned the strings before the concerto began in the hall.");

    static Path bin;
    static Path scratch;
    static ScratchDatabase source;
    static ScratchDatabase restored;
    static String restoredOwner;
    static String restoredOwnerPassword;
    static String workerUrl;
    static String prefix;
    static String groups;
    static KafkaProducer<String, String> producer;
    static JavaProcess pipeline;
    static int searchPort;
    static final List<String> published = new CopyOnWriteArrayList<>();
    /** Each document of the source as the dump holds it: status, chunk count, id, chunks and vectors. */
    static Map<String, String> atDump;
    /** The outbox rows (id, topic) the dump holds. */
    static Map<Long, String> dumpedOutbox;

    static long highestIdPublishedBySource;

    @BeforeAll
    static void startThePipelineOnADatabaseOfItsOwn() throws Exception {
        bin = PostgresInstallation.findBinDir().orElse(null);
        Assumptions.assumeTrue(
                bin != null
                        && Files.isExecutable(bin.resolve("pg_dump"))
                        && Files.isExecutable(bin.resolve("pg_restore"))
                        && Files.isExecutable(bin.resolve("psql")),
                "no pg_dump, pg_restore and psql on this machine (RAGLINE_PG_BINDIR, /usr/lib/postgresql/N/bin or"
                        + " pg_config): the restore test runs the real client tools, which a Docker-only machine lacks");
        source = ScratchDatabase.create("t_restore_source"); // owned by the dev URL's user
        int server = (int) source.queryValue("select current_setting('server_version_num')::int / 10000");
        int client = clientMajor();
        Assumptions.assumeTrue(
                client >= server,
                "pg_dump " + client + " in " + bin + " is older than the server (" + server
                        + "): pg_dump refuses to dump a newer server; install postgresql-client-" + server);
        scratch = Files.createTempDirectory("ragline-restore");
        source.queryValue("create extension if not exists vector with schema public");
        migrate(source.serverUserUrl());
        workerUrl = PostgresSchema.newLogin("ragline_worker");

        String suffix = source.name().substring(source.name().lastIndexOf('_') + 1);
        prefix = "rst" + suffix.substring(0, Math.min(6, suffix.length())) + ".";
        groups = "rst-" + suffix;
        KafkaTopics.createNamed(prefix + "documents", 2);
        producer = KafkaTopics.producer();
        pipeline = startPipeline(source);
    }

    @AfterAll
    static void dropWhatWasMade() throws Exception {
        if (producer != null) {
            producer.close();
        }
        stopPipeline();
        if (restored != null) {
            restored.drop();
        }
        if (restoredOwner != null) {
            ScratchDatabase.onServer("drop role if exists " + restoredOwner);
        }
        if (source != null) {
            source.drop();
        }
    }

    @Test
    @Order(1)
    void aDumpTakenWhileDocumentsFlowIsRestoredByAnOwnerWithoutSuperuserRightsExactlyAsItWasDumped() throws Exception {
        THEMES.forEach(RestoreFromDumpIT::publish);
        awaitEmbedded(source, THEMES.keySet(), Duration.ofMinutes(3));

        ScheduledExecutorService flow = Executors.newSingleThreadScheduledExecutor();
        AtomicInteger n = new AtomicInteger();
        flow.scheduleAtFixedRate(
                () -> {
                    for (int i = 0; i < 4; i++) {
                        int k = n.incrementAndGet();
                        publish("flow-" + k, "Shift report " + k + ": the night passed without incident.");
                    }
                },
                0,
                250,
                TimeUnit.MILLISECONDS);
        try {
            dumpWhileTheOutboxHoldsRows();
            Thread.sleep(2_000); // documents keep flowing after the dump: the dump cannot hold them
        } finally {
            flow.shutdown();
            assertThat(flow.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
        producer.flush();
        awaitEmbedded(source, published, Duration.ofMinutes(3));
        await().atMost(Duration.ofMinutes(1))
                .until(() -> (long) source.queryValue("select count(*) from rag.outbox") == 0);
        highestIdPublishedBySource = outboxIdsOn("pipeline-events").stream()
                .mapToLong(Long::longValue)
                .max()
                .orElseThrow();
        stopPipeline(); // the database it served is taken as lost from here on

        restore();

        assertThat(documentStates(restored)).isEqualTo(atDump);
        assertThat(atDump)
                .as("documents published after the dump are not in it")
                .hasSizeLessThan(published.size());
        assertThat(outboxRows(restored)).isEqualTo(dumpedOutbox);
        assertThat(restored.queryValue("select nspowner::regrole::text from pg_namespace where nspname = 'rag'"))
                .isEqualTo(restoredOwner);
        assertThat(restored.queryValue("select has_table_privilege('ragline_worker', 'rag.outbox', 'INSERT')"))
                .as("ragline migrate granted the worker role again")
                .isEqualTo(true);
    }

    @Test
    @Order(2)
    void thePipelineOnTheRestoredDatabaseReplaysWhatFollowedTheDumpRepublishesItsOutboxHarmlesslyAndServesNewDocuments()
            throws Exception {
        assertThat(atDump).as("the restore of the first test").isNotNull();
        assertThat(rewindConsumerGroupsToTheRestoredOffsets())
                .as("partitions the lost database had consumed past the dump")
                .isPositive();
        pipeline = startPipeline(restored);
        publish("lighthouse", "The lighthouse keeper lit the lamp to guide ships through the storm at night.");

        awaitEmbedded(restored, published, Duration.ofMinutes(4));
        Map<String, String> now = documentStates(restored);
        atDump.forEach((id, state) -> {
            if (state.startsWith("embedded")) {
                assertThat(now.get(id))
                        .as(id + ": same id, chunks and vectors as dumped")
                        .isEqualTo(state);
            }
        });
        assertThat(restored.queryValue("select count(*) from rag.documents d where d.chunk_count < 1"
                        + " or d.chunk_count <> (select count(*) from rag.chunks ch where ch.document_id = d.id)"
                        + " or d.chunk_count <> (select count(*) from rag.chunk_embeddings e"
                        + " join rag.chunks ch on ch.id = e.chunk_id where ch.document_id = d.id)"))
                .as("documents whose chunks and vectors do not match one for one")
                .isEqualTo(0L);
        await().atMost(Duration.ofMinutes(1))
                .until(() -> (long) restored.queryValue("select count(*) from rag.outbox") == 0);
        assertThat(restored.queryValue("select count(*) from rag.outbox_dead_letters"))
                .isEqualTo(0L);

        Map<String, List<Long>> seen = new HashMap<>();
        dumpedOutbox.forEach((id, topic) -> assertThat(seen.computeIfAbsent(topic, RestoreFromDumpIT::outboxIdsOn))
                .as("outbox row " + id + " on " + topic + ": published by the lost database, then by the restored one")
                .filteredOn(id::equals)
                .hasSize(2));
        for (String topic : List.of("embedding-requests", "pipeline-events")) {
            // Without the recipe's sequence jump the replayed documents' rows take ids the lost
            // database had published after the dump: the same id twice for two different messages.
            Map<Long, Long> timesSeen =
                    outboxIdsOn(topic).stream().collect(Collectors.groupingBy(id -> id, Collectors.counting()));
            assertThat(timesSeen)
                    .as("on " + topic + ", only the dumped outbox rows carry an id twice")
                    .allSatisfy((id, times) -> assertThat(times)
                            .as("outbox id " + id)
                            .isEqualTo(topic.equals(dumpedOutbox.get(id)) ? 2L : 1L));
        }
        assertThat(outboxIdsOfDocument("pipeline-events", "lighthouse"))
                .as("the restored database's new rows take ids the lost one never published")
                .isNotEmpty()
                .allSatisfy(id -> assertThat(id).isGreaterThan(highestIdPublishedBySource));

        assertThat(topResult("birds huddling on the ice near the south pole")).isEqualTo("penguins");
        assertThat(topResult("a tower whose light guides sailors in bad weather"))
                .isEqualTo("lighthouse");
    }

    /**
     * Takes the dump from a snapshot in which the outbox holds rows, so that the republishing is
     * exercised: a transaction exports its snapshot ({@code pg_dump --snapshot}) once it sees rows.
     * Records, from that snapshot, what the dump holds.
     */
    private static void dumpWhileTheOutboxHoldsRows() throws Exception {
        try (Connection c = source.connect(SCHEMA)) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            AtomicReference<String> snapshot = new AtomicReference<>();
            await().atMost(Duration.ofMinutes(1))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> {
                        c.rollback();
                        try (Statement s = c.createStatement();
                                ResultSet rs = s.executeQuery(
                                        "select pg_export_snapshot(), (select count(*) from rag.outbox)")) {
                            rs.next();
                            snapshot.set(rs.getString(1));
                            return rs.getLong(2) > 0;
                        }
                    });
            atDump = documentStates(c);
            dumpedOutbox = outboxRows(c);
            String url = source.serverUserUrl();
            clientTool(
                    url,
                    "pg_dump",
                    "--format=custom",
                    "--schema=" + SCHEMA,
                    "--snapshot=" + snapshot.get(),
                    "--file=" + scratch.resolve("rag.dump"));
            c.rollback();
        }
    }

    /** The recipe's restore: the DBA's part as the superuser, the rest as the new owner. */
    private static void restore() throws Exception {
        restoredOwner = "t_restore_owner_" + groups.substring(groups.indexOf('-') + 1);
        restoredOwnerPassword = UUID.randomUUID().toString();
        ScratchDatabase.onServer("create role " + restoredOwner + " login nosuperuser nocreaterole nocreatedb"
                + " password '" + restoredOwnerPassword + "'");
        restored = ScratchDatabase.createOwnedBy("t_restore_target", restoredOwner);
        restored.queryValue("create extension vector with schema public");

        String url = restored.urlAs(restoredOwner, restoredOwnerPassword);
        clientTool(
                url,
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                scratch.resolve("rag.dump").toString());
        migrate(url);
        clientTool(
                url,
                "psql",
                "-c",
                "select setval('rag.outbox_id_seq', (select last_value from rag.outbox_id_seq) + 1000000000000)");
    }

    /** Runs a PostgreSQL client tool on {@code url}'s database, the password in PGPASSWORD, not in argv. */
    private static void clientTool(String url, String tool, String... args) {
        List<String> argv = new ArrayList<>(List.of(bin.resolve(tool).toString()));
        argv.addAll(List.of(args));
        argv.add("--dbname=" + ScratchDatabase.withoutPassword(url));
        Command.of(argv)
                .env("PGPASSWORD", ScratchDatabase.passwordOf(url))
                .timeout(Duration.ofMinutes(2))
                .run();
    }

    /**
     * The recipe's {@code kafka-consumer-groups --reset-offsets --from-file}, through the Admin API
     * it calls: every committed offset of the pipeline's groups goes back to what the restored
     * {@code consumer_offsets} hold, or to the partition's start where they hold nothing. Returns
     * how many partitions moved back.
     */
    private static int rewindConsumerGroupsToTheRestoredOffsets() throws Exception {
        Map<String, Long> stored = new HashMap<>();
        try (Connection c = restored.connect(SCHEMA);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select group_id, topic, partition, next_offset from consumer_offsets")) {
            while (rs.next()) {
                stored.put(rs.getString(1) + "/" + rs.getString(2) + "/" + rs.getInt(3), rs.getLong(4));
            }
        }
        int movedBack = 0;
        try (Admin admin =
                Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTopics.bootstrapServers()))) {
            for (GroupListing g : admin.listGroups(ListGroupsOptions.forConsumerGroups())
                    .all()
                    .get()) {
                if (!g.groupId().startsWith(groups + "-")) {
                    continue;
                }
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(g.groupId())
                        .partitionsToOffsetAndMetadata()
                        .get();
                var earliest = admin.listOffsets(committed.keySet().stream()
                                .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.earliest())))
                        .all()
                        .get();
                Map<TopicPartition, OffsetAndMetadata> target = new HashMap<>();
                for (TopicPartition tp : committed.keySet()) {
                    String key = g.groupId() + "/" + tp.topic() + "/" + tp.partition();
                    long offset = stored.getOrDefault(key, earliest.get(tp).offset());
                    target.put(tp, new OffsetAndMetadata(offset));
                    OffsetAndMetadata before = committed.get(tp);
                    if (before != null && offset < before.offset()) {
                        movedBack++;
                    }
                }
                admin.alterConsumerGroupOffsets(g.groupId(), target).all().get();
            }
        }
        return movedBack;
    }

    private static JavaProcess startPipeline(ScratchDatabase database) throws Exception {
        int adminPort = freePort();
        searchPort = freePort();
        Map<String, String> env = new HashMap<>();
        env.put("DATABASE_URL", database.urlOf(workerUrl));
        env.put("KAFKA_BOOTSTRAP_SERVERS", KafkaTopics.bootstrapServers());
        env.put("RAGLINE_DB_SCHEMA", SCHEMA);
        env.put("RAGLINE_MIGRATE_ON_START", "false");
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_GROUP_PREFIX", groups);
        env.put("RAGLINE_ADMIN_PORT", String.valueOf(adminPort));
        env.put("RAGLINE_SEARCH_PORT", String.valueOf(searchPort));
        env.put("RAGLINE_CONSOLE_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0");
        env.put("RAGLINE_OUTBOX_POLL_INTERVAL", "200ms");
        JavaProcess process = CliProcess.start(env, "all");
        try {
            CliProcess.awaitReady(adminPort, Duration.ofMinutes(3));
        } catch (AssertionError e) {
            process.kill();
            throw new AssertionError("ragline all on " + database.name() + " not ready:\n" + process.stderr(), e);
        }
        return process;
    }

    private static void stopPipeline() throws Exception {
        if (pipeline != null) {
            JavaProcess p = pipeline;
            pipeline = null;
            p.terminate();
            assertThat(p.waitFor(60)).as(p.stderr()).isZero();
        }
    }

    private static void migrate(String url) throws Exception {
        JavaProcess migrate = CliProcess.start(Map.of("DATABASE_URL", url, "RAGLINE_DB_SCHEMA", SCHEMA), "migrate");
        assertThat(migrate.waitFor(120)).as(migrate.stderr()).isZero();
    }

    private static void publish(String id, String content) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("op", "upsert");
        doc.put("id", id);
        doc.put("title", id);
        doc.put("content", content);
        doc.put("version", 1);
        producer.send(new ProducerRecord<>(prefix + "documents", "default/" + id, doc.toString()));
        published.add(id);
    }

    private static void awaitEmbedded(ScratchDatabase database, Collection<String> ids, Duration within) {
        String list = String.join(",", ids);
        await().atMost(within)
                .until(() -> (long) database.queryValue("select count(*) from rag.documents where status = 'embedded'"
                                + " and external_id = any('{" + list + "}')")
                        == ids.size());
    }

    private static Map<String, String> documentStates(ScratchDatabase database) throws SQLException {
        try (Connection c = database.connect(SCHEMA)) {
            return documentStates(c);
        }
    }

    /** external id → "status chunk_count id md5(chunk ids and vectors)". */
    private static Map<String, String> documentStates(Connection c) throws SQLException {
        Map<String, String> states = new TreeMap<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select d.external_id, d.status || ' ' || d.chunk_count || ' ' || d.id"
                        + " || ' ' || md5(coalesce(string_agg(ch.id || ':' || e.embedding::text, ';' order by ch.seq),"
                        + " '')) from rag.documents d left join rag.chunks ch on ch.document_id = d.id"
                        + " left join rag.chunk_embeddings e on e.chunk_id = ch.id group by d.id")) {
            while (rs.next()) {
                states.put(rs.getString(1), rs.getString(2));
            }
        }
        return states;
    }

    private static Map<Long, String> outboxRows(ScratchDatabase database) throws SQLException {
        try (Connection c = database.connect(SCHEMA)) {
            return outboxRows(c);
        }
    }

    private static Map<Long, String> outboxRows(Connection c) throws SQLException {
        Map<Long, String> rows = new TreeMap<>();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select id, topic from rag.outbox")) {
            while (rs.next()) {
                rows.put(rs.getLong(1), rs.getString(2));
            }
        }
        return rows;
    }

    private static List<Long> outboxIdsOn(String topic) {
        return KafkaTopics.readAll(prefix + topic, Duration.ofSeconds(30)).stream()
                .map(RestoreFromDumpIT::outboxId)
                .flatMap(Optional::stream)
                .toList();
    }

    private static List<Long> outboxIdsOfDocument(String topic, String id) {
        return KafkaTopics.readAll(prefix + topic, Duration.ofSeconds(30)).stream()
                .filter(r -> r.value() != null
                        && id.equals(json(r.value()).path("id").asText()))
                .map(RestoreFromDumpIT::outboxId)
                .flatMap(Optional::stream)
                .toList();
    }

    private static Optional<Long> outboxId(ConsumerRecord<String, String> r) {
        var h = r.headers().lastHeader("ragline.outbox.id");
        return h == null
                ? Optional.empty()
                : Optional.of(Long.parseLong(new String(h.value(), StandardCharsets.UTF_8)));
    }

    private static String topResult(String query) throws Exception {
        return SearchRequest.results(http, searchPort, query, 1)
                .get(0)
                .get("document_id")
                .asText();
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int clientMajor() {
        // "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
        Matcher m = Pattern.compile("\\) (\\d+)")
                .matcher(Command.of(bin.resolve("pg_dump").toString(), "--version")
                        .run());
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
