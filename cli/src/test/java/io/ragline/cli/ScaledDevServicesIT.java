package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.devstack.DevStack;
import io.ragline.devstack.Ports;
import io.ragline.devstack.postgres.PostgresInstallation;
import io.ragline.testkit.JavaProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The scaled development services as a user runs them: {@code ragline dev up --kafka-brokers 3
 * --postgres-standby}, {@code dev kafka stop|kill|start N}, {@code dev postgres promote} and {@code
 * dev down}, each the CLI as a process of its own, in a private {@code RAGLINE_HOME} (hence its own
 * ports and processes, beside the shared services of the repository's {@code .ragline/}). The
 * brokers and servers are real processes; the tests talk to them with Kafka's and PostgreSQL's own
 * clients through the addresses {@code dev up} wrote.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScaledDevServicesIT {
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(5);

    private static Path home;
    private static Map<String, String> env;
    private static String defaultUp;
    private static String scaledUp;

    @BeforeAll
    static void upInTheDefaultShapeThenScaled() throws Exception {
        // The scaled services are local processes only: a machine whose tests use Docker, or a
        // given DATABASE_URL without a local server, has no binaries to run them with (and the
        // suite must not install a server there), as PrivateClusters skips the test kit's own.
        Assumptions.assumeTrue(
                PostgresInstallation.findBinDir().isPresent(),
                "no PostgreSQL server binaries (initdb, pg_ctl) on this machine: the scaled dev services"
                        + " run as local processes; set RAGLINE_PG_BINDIR or install the postgresql package");
        // World-searchable: as root, PostgreSQL runs as the postgres user, which must reach it.
        home = Files.createTempDirectory(
                "ragline-scaled-dev",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        env = Map.of("RAGLINE_HOME", home.toString(), DevStack.MODE_VARIABLE, "local");
        defaultUp = dev("up");
        scaledUp = dev("up", "--kafka-brokers", "3", "--postgres-standby");
    }

    @AfterAll
    static void downAndDelete() throws Exception {
        if (home != null) {
            CliProcess.start(env, "dev", "down").waitFor(COMMAND_TIMEOUT.toSeconds());
            try (Stream<Path> files = Files.walk(home)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    @Order(1)
    void withoutOptionsDevUpRunsOneBrokerAndOneServerAsBefore() {
        assertThat(value(defaultUp, "DATABASE_URL"))
                .matches("postgresql://ragline:<masked>@127\\.0\\.0\\.1:\\d+/ragline\\?sslmode=disable");
        assertThat(value(defaultUp, "KAFKA_BOOTSTRAP_SERVERS")).matches("127\\.0\\.0\\.1:\\d+");
        assertThat(defaultUp).doesNotContain("# Kafka:");
    }

    @Test
    @Order(2)
    void scaledDevUpWritesBothServersAndEveryBrokerAndPrintsTheSameWhenRunAgain() throws Exception {
        Map<String, String> written = DevStack.readEnvFile(home);
        DatabaseUrl url = databaseUrl();
        assertThat(url.hosts()).hasSize(2).doesNotHaveDuplicates();
        assertThat(url.parameters()).containsEntry("target_session_attrs", "read-write");
        assertThat(url.hosts().get(0))
                .isEqualTo(value(defaultUp, "DATABASE_URL").replaceAll(".*@([^/]+)/.*", "$1"));
        assertThat(brokers()).hasSize(3).doesNotHaveDuplicates();
        assertThat(written.get("KAFKA_BOOTSTRAP_SERVERS")).isEqualTo(value(scaledUp, "KAFKA_BOOTSTRAP_SERVERS"));
        // The single broker of the default shape was stopped for the cluster.
        assertThat(Ports.accepts(port(value(defaultUp, "KAFKA_BOOTSTRAP_SERVERS"))))
                .isFalse();

        assertThat(status(0))
                .containsPattern("kafka broker 1 +127\\.0\\.0\\.1:\\d+ +running")
                .containsPattern("kafka broker 3 +" + brokers().get(2) + " +running")
                .containsPattern("postgres primary +" + url.hosts().get(0) + " +running")
                .containsPattern("postgres standby +" + url.hosts().get(1) + " +running \\(synchronous\\)");

        // Idempotent, options remembered: what CI checks of the default shape.
        assertThat(dev("up")).isEqualTo(scaledUp);
        assertThat(dev("up", "--kafka-brokers", "3", "--postgres-standby")).isEqualTo(scaledUp);
    }

    @Test
    @Order(3)
    void recordsWrittenWithAllAcksAreReadThroughEveryBrokerAlsoWithOneBrokerStoppedOrKilled() throws Exception {
        String topic = "scaled-dev-" + UUID.randomUUID();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 3))).all().get(60, TimeUnit.SECONDS);
            // The broker asked may not know the new topic yet (UnknownTopicOrPartition right after
            // the create, seen once on a loaded machine): ask until its metadata has spread.
            TopicDescription described = await().atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .until(
                            () -> admin.describeTopics(List.of(topic))
                                    .allTopicNames()
                                    .get(30, TimeUnit.SECONDS)
                                    .get(topic),
                            d -> d != null);
            assertThat(described.partitions())
                    .allSatisfy(p -> assertThat(p.replicas()).hasSize(3));
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            assertThat(admin.describeConfigs(List.of(resource))
                            .all()
                            .get(30, TimeUnit.SECONDS)
                            .get(resource)
                            .get("min.insync.replicas")
                            .value())
                    .isEqualTo("2");
        }
        List<String> sent = new ArrayList<>(produce(topic, "all-up", 30));
        for (String broker : brokers()) {
            assertThat(consume(topic, broker, sent.size())).containsExactlyInAnyOrderElementsOf(sent);
        }

        dev("kafka", "stop", "2");
        assertThat(Ports.accepts(port(brokers().get(1)))).isFalse();
        assertThat(status(3)).containsPattern("kafka broker 2 +" + brokers().get(1) + " +stopped");
        sent.addAll(produce(topic, "broker-2-stopped", 30));
        assertThat(consume(topic, brokers().get(0), sent.size())).containsExactlyInAnyOrderElementsOf(sent);
        dev("kafka", "start", "2");
        assertThat(Ports.accepts(port(brokers().get(1)))).isTrue();

        dev("kafka", "kill", "3");
        assertThat(Ports.accepts(port(brokers().get(2)))).isFalse();
        sent.addAll(produce(topic, "broker-3-killed", 30));
        dev("kafka", "start", "3");
        for (String broker : brokers()) {
            assertThat(consume(topic, broker, sent.size())).containsExactlyInAnyOrderElementsOf(sent);
        }
    }

    @Test
    @Order(4)
    void thePromotedStandbyHoldsEveryCommitAndTakesWritesThroughTheSameUrl() throws Exception {
        DatabaseUrl url = databaseUrl();
        execute(url, "create table replicated (id int primary key, v vector(3))");
        execute(url, "insert into replicated select g, '[1,2,3]' from generate_series(1, 1000) g");
        DatabaseUrl standby = only(url, 1);
        assertThat(query(standby, "select pg_is_in_recovery()")).isEqualTo(true);

        dev("postgres", "promote");

        assertThat(Ports.accepts(port(url.hosts().get(0)))).isFalse();
        assertThat(status(3))
                .containsPattern("postgres primary +" + url.hosts().get(0) + " +stopped")
                .containsPattern("postgres standby +" + url.hosts().get(1) + " +running \\(promoted");
        assertThat(query(standby, "select pg_is_in_recovery()")).isEqualTo(false);
        // Synchronous replication: every commit the primary acknowledged is on the promoted standby.
        assertThat(query(url, "select count(*) from replicated")).isEqualTo(1000L);
        execute(url, "insert into replicated values (0, '[0,0,0]')");
        assertThat(query(url, "select count(*) from replicated")).isEqualTo(1001L);

        // dev up goes on with the promoted server under the same URL; the single server would lack its writes.
        assertThat(dev("up")).isEqualTo(scaledUp);
        JavaProcess single = CliProcess.start(env, "dev", "up", "--no-postgres-standby");
        assertThat(single.waitFor(COMMAND_TIMEOUT.toSeconds())).isEqualTo(1);
        assertThat(single.stderr()).contains("was promoted", "--postgres-standby");
        assertThat(query(url, "select count(*) from replicated")).isEqualTo(1001L);
    }

    @Test
    @Order(5)
    void devDownStopsEveryBrokerAndServer() throws Exception {
        List<Integer> ports = new ArrayList<>();
        brokers().forEach(b -> ports.add(port(b)));
        databaseUrl().hosts().forEach(h -> ports.add(port(h)));

        dev("down");

        assertThat(ports)
                .allSatisfy(p -> assertThat(Ports.accepts(p)).as("port %d", p).isFalse());
        assertThat(status(3)).doesNotContain("running");
        try (Stream<Path> pidFiles = Files.find(home, 6, (p, a) -> p.endsWith("pid") || p.endsWith("postmaster.pid"))) {
            assertThat(pidFiles.toList()).isEmpty();
        }
    }

    /** Runs {@code ragline dev ARGS}, asserts it succeeded, returns what it printed. */
    private static String dev(String... args) throws Exception {
        String[] argv = Stream.concat(Stream.of("dev"), Arrays.stream(args)).toArray(String[]::new);
        JavaProcess p = CliProcess.start(env, argv);
        int exit = p.waitFor(COMMAND_TIMEOUT.toSeconds());
        assertThat(exit)
                .as("ragline %s; stderr:%n%s", String.join(" ", argv), p.stderr())
                .isZero();
        return p.stdout();
    }

    /** What {@code ragline dev status} printed, asserting it exited {@code exit}. */
    private static String status(int exit) throws Exception {
        JavaProcess p = CliProcess.start(env, "dev", "status");
        assertThat(p.waitFor(COMMAND_TIMEOUT.toSeconds()))
                .as("ragline dev status; stdout:%n%s%nstderr:%n%s", p.stdout(), p.stderr())
                .isEqualTo(exit);
        return p.stdout();
    }

    private static String value(String printed, String name) {
        return printed.lines()
                .filter(l -> l.startsWith(name + "="))
                .map(l -> l.substring(name.length() + 1))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " in:\n" + printed));
    }

    private static DatabaseUrl databaseUrl() {
        return DatabaseUrl.parse(DevStack.readEnvFile(home).get("DATABASE_URL"))
                .url()
                .orElseThrow();
    }

    private static String bootstrap() {
        return DevStack.readEnvFile(home).get("KAFKA_BOOTSTRAP_SERVERS");
    }

    private static List<String> brokers() {
        return List.of(bootstrap().split(","));
    }

    private static int port(String hostAndPort) {
        return Integer.parseInt(hostAndPort.substring(hostAndPort.lastIndexOf(':') + 1));
    }

    private static List<String> produce(String topic, String prefix, int count) throws Exception {
        List<String> values = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap(),
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                StringSerializer.class))) {
            for (int i = 0; i < count; i++) {
                String value = prefix + "-" + i;
                producer.send(new ProducerRecord<>(topic, value, value)).get(60, TimeUnit.SECONDS);
                values.add(value);
            }
        }
        return values;
    }

    /** Every record of {@code topic}, read by a consumer that knows only {@code broker}. */
    private static List<String> consume(String topic, String broker, int expected) {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class))) {
            List<TopicPartition> partitions = List.of(0, 1, 2).stream()
                    .map(p -> new TopicPartition(topic, p))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<String> read = new ArrayList<>();
            await("records of " + topic + " through " + broker)
                    .atMost(Duration.ofSeconds(90))
                    .until(
                            () -> {
                                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                                    read.add(r.value());
                                }
                                return read.size();
                            },
                            n -> n >= expected);
            return read;
        }
    }

    /** {@code url} with its {@code index}th host alone: one server, whatever its role. */
    private static DatabaseUrl only(DatabaseUrl url, int index) {
        return new DatabaseUrl(
                List.of(url.hosts().get(index)),
                url.database(),
                url.user(),
                url.password(),
                Map.of("sslmode", "disable"));
    }

    private static Connection connect(DatabaseUrl url) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", url.user());
        props.setProperty("password", url.password().reveal());
        props.setProperty("connectTimeout", "10");
        return DriverManager.getConnection(url.jdbcUrl(), props);
    }

    private static Object query(DatabaseUrl url, String sql) throws SQLException {
        try (Connection c = connect(url);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getObject(1) : null;
        }
    }

    private static void execute(DatabaseUrl url, String sql) throws SQLException {
        try (Connection c = connect(url);
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
