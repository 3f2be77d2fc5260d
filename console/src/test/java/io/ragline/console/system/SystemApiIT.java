package io.ragline.console.system;

import static io.ragline.console.ConsoleTestServer.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.console.ConsoleTestServer;
import io.ragline.console.api.Json;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TestServices;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /api/v1/system} on a real console, Postgres and Kafka: the outbox backlog and the lease
 * holder as the tables say, consumer lag of this deployment's groups as Kafka says (another
 * deployment's groups left out), each configured worker's readiness (a live admin port and one
 * where nothing listens), rates from a live admin port's Prometheus metrics, and an overview that
 * still answers when Kafka does not.
 */
class SystemApiIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final String PREFIX = "sysapi" + UUID.randomUUID().toString().substring(0, 8);
    static ConsoleTestServer console;
    static ConsoleTestServer kafkaDown;

    @BeforeAll
    static void start() {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_GROUP_PREFIX", PREFIX);
        console = ConsoleTestServer.start(env, (runtime, routes) -> {
            ConsoleWorkers workers = new ConsoleWorkers(List.of(
                    new ConsoleWorkers.Worker("console", URI.create("http://127.0.0.1:" + runtime.adminPort())),
                    new ConsoleWorkers.Worker("gone", URI.create("http://127.0.0.1:1"))));
            SystemApi.of(runtime, workers, "test-version").register(routes);
        });
        kafkaDown = ConsoleTestServer.start(env, (runtime, routes) -> {
            Admin nowhere = runtime.manage(KafkaClients.admin(
                    "127.0.0.1:1", KafkaSettings.defaults().clientProperties(), "nowhere", Duration.ofSeconds(1)));
            AdminProbe probe = new AdminProbe(Duration.ofSeconds(1), Duration.ofSeconds(1));
            ConsoleWorkers none = ConsoleWorkers.none();
            new SystemApi(
                            "test-version",
                            new ConsumerLag(nowhere, PREFIX, 1_000),
                            new WorkerReadiness(none, probe),
                            new WorkerRates(
                                    none, WorkerRates.scraper(probe), Clock.systemUTC(), d -> {}, Duration.ZERO))
                    .register(routes);
        });
    }

    @AfterAll
    static void stop() {
        for (ConsoleTestServer s : new ConsoleTestServer[] {console, kafkaDown}) {
            if (s != null) {
                s.close();
            }
        }
    }

    private static JsonNode get(ConsoleTestServer server, String path) throws Exception {
        HttpResponse<String> r = server.get(path, VIEWER);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.MAPPER.readTree(r.body());
    }

    @Test
    void theOverviewShowsBacklogLeaseHolderAndSchemaAsTheTablesSay() throws Exception {
        db.execute("insert into outbox (topic, key, payload) values ('t', 'a', '{}'), ('t', 'b', '{}')");
        JsonNode s = get(console, "/api/v1/system");
        assertThat(s.get("version").asText()).isEqualTo("test-version");
        assertThat(s.get("schema_version").asText()).isNotEmpty();
        assertThat(s.get("outbox").get("backlog").asLong()).isEqualTo(2);
        assertThat(s.get("outbox").get("oldest_age_seconds").asDouble()).isGreaterThanOrEqualTo(0);
        assertThat(s.get("dispatcher").get("lease_holder").isNull()).isTrue();

        db.execute("insert into dispatcher_leases (name, holder, acquired_at, expires_at) values ('outbox',"
                + " 'dispatcher-7', now(), now() + interval '1 hour')");
        JsonNode held = get(console, "/api/v1/system");
        assertThat(held.get("dispatcher").get("lease_holder").asText()).isEqualTo("dispatcher-7");
        assertThat(held.get("dispatcher").get("lease_expires_at").asText()).endsWith("Z");
        db.execute("delete from outbox");
    }

    @Test
    void consumerLagIsPerGroupAndPartitionOfThisDeploymentsGroupsOnly() throws Exception {
        String topic = PREFIX + ".lagged";
        String bootstrap = TestServices.get().kafkaBootstrapServers();
        var props = KafkaSettings.defaults().clientProperties();
        try (Admin admin = KafkaClients.admin(bootstrap, props, "lag-test", Duration.ofSeconds(30));
                KafkaProducer<byte[], byte[]> producer =
                        KafkaClients.producer(bootstrap, KafkaSettings.defaults(), "lag-test")) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, new byte[] {1}))
                        .get();
            }
            commit(bootstrap, PREFIX + "-ingest", topic, 2);
            commit(bootstrap, "other" + PREFIX + "-ingest", topic, 1);
        }
        JsonNode lag = get(console, "/api/v1/system").get("consumer_lag");
        assertThat(lag).hasSize(1);
        JsonNode p = lag.get(0);
        assertThat(p.get("group").asText()).isEqualTo(PREFIX + "-ingest");
        assertThat(p.get("topic").asText()).isEqualTo(topic);
        assertThat(p.get("partition").asInt()).isZero();
        assertThat(p.get("committed").asLong()).isEqualTo(2);
        assertThat(p.get("end").asLong()).isEqualTo(5);
        assertThat(p.get("lag").asLong()).isEqualTo(3);
    }

    private static void commit(String bootstrap, String group, String topic, long offset) {
        try (KafkaConsumer<byte[], byte[]> c =
                KafkaClients.consumer(bootstrap, KafkaSettings.defaults(), group, group)) {
            c.commitSync(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(offset)));
        }
    }

    @Test
    void eachConfiguredWorkerIsReadyOrSaysWhyNot() throws Exception {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode workers = get(console, "/api/v1/system").get("workers");
            assertThat(workers.findValuesAsText("name")).containsExactly("console", "gone");
            assertThat(workers.get(0).get("ready").asBoolean()).isTrue();
            assertThat(workers.get(1).get("ready").asBoolean()).isFalse();
            assertThat(workers.get(1).get("detail").asText())
                    .startsWith("no answer: ")
                    .contains("Connect");
            assertThat(workers.get(1).get("admin_url").asText()).isEqualTo("http://127.0.0.1:1");
        });
    }

    @Test
    void ratesComeFromTheWorkersPrometheusCounters() throws Exception {
        var counter = console.runtime().registry().counter("ragline.documents.applied", "outcome", "chunked");
        JsonNode first = get(console, "/api/v1/system/rates").get("workers");
        assertThat(first.get(0).get("name").asText()).isEqualTo("console");
        assertThat(first.get(0).get("span_seconds").asDouble()).isGreaterThanOrEqualTo(1.0);
        assertThat(first.get(1).get("error").asText()).contains("metrics unreadable");
        assertThat(first.get(1).get("documents_per_second").isNull()).isTrue();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            counter.increment(50);
            JsonNode w = get(console, "/api/v1/system/rates").get("workers").get(0);
            assertThat(w.get("documents_per_second").asDouble()).isPositive();
            assertThat(w.get("errors_per_second").asDouble()).isZero();
        });
    }

    @Test
    void withKafkaDownTheOverviewStillAnswersAndSaysWhatItCouldNotRead() throws Exception {
        JsonNode s = get(kafkaDown, "/api/v1/system");
        assertThat(s.get("consumer_lag").isNull()).isTrue();
        assertThat(s.get("problems").get(0).asText()).startsWith("consumer lag unreadable: Kafka did not answer");
        assertThat(s.get("outbox").get("backlog").isNumber()).isTrue();
        assertThat(get(kafkaDown, "/api/v1/system/rates").get("workers")).isEmpty();
        kafkaDown.assertEveryRouteAnswered("/system");
        var parsed = new io.swagger.parser.OpenAPIParser()
                .readContents(kafkaDown.get("/api/v1/openapi.json", null).body(), null, null);
        assertThat(parsed.getMessages()).isEmpty();
        assertThat(parsed.getOpenAPI().getPaths()).containsKeys("/system", "/system/rates");
    }

    @Test
    void withoutATokenNothingIsShown() throws Exception {
        assertThat(console.get("/api/v1/system", null).statusCode()).isEqualTo(401);
        assertThat(console.get("/api/v1/system/rates", null).statusCode()).isEqualTo(401);
    }
}
