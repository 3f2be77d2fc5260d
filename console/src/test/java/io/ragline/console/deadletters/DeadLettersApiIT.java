package io.ragline.console.deadletters;

import static io.ragline.console.ConsoleTestServer.OPERATOR;
import static io.ragline.console.ConsoleTestServer.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.console.ConsoleTestServer;
import io.ragline.console.api.Json;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.KafkaDeadLetters;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /api/v1/dead-letters} on a real console server, Postgres and Kafka, with the
 * event-dispatcher running: dead letters written by {@link KafkaDeadLetters} (what every worker
 * uses) read back by partition and offset with their reasons, redriven to their source topic once
 * (checked with an independent read_committed consumer), discarded, outbox dead letters redriven
 * through the outbox to Kafka exactly once, every client error as a problem, and a viewer who
 * changes nothing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeadLettersApiIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static ConsoleTestServer console;
    static String prefix;
    static String source;
    static String dlq;
    static String records;

    @BeforeAll
    static void start() throws Exception {
        prefix = "dl" + UUID.randomUUID().toString().substring(0, 8) + ".";
        source = KafkaTopics.createNamed(prefix + "documents", 1);
        dlq = KafkaTopics.createNamed(prefix + "documents.dlq", 1);
        KafkaTopics.createNamed(prefix + "redrive-check", 1);
        // Another deployment whose prefix starts with ours, and another application's *.dlq under our prefix.
        KafkaTopics.createNamed(prefix + "other.documents.dlq", 1);
        KafkaTopics.createNamed(prefix + "payments.dlq", 1);
        records = "/api/v1/dead-letters/topics/" + dlq + "/records";
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_OUTBOX_POLL_INTERVAL", "200ms");
        console = ConsoleTestServer.start(env, (runtime, routes) -> {
            EventDispatcher.wiring(new Env(env)).accept(runtime);
            new DeadLettersApi(runtime.settings(), runtime::producer).register(routes);
        });
        KafkaDeadLetters deadLetters =
                new KafkaDeadLetters(console.runtime().producer(), "ragline-documents", Duration.ofSeconds(30));
        // Offset 0: a document the worker could not write then (it was poison for a reason now gone).
        deadLetters.publish(
                poison(0, "default/kept", document("kept", "A document dead-lettered by a passing fault.")),
                new IllegalStateException("collection 'default' is paused"),
                3);
        // Offset 1: one the contract refuses.
        deadLetters.publish(poison(1, "default/broken", "{not json"), new PoisonRecordException("not JSON"), 1);
        // Offset 2: one to discard.
        deadLetters.publish(
                poison(2, "default/stale", document("stale", "Nobody wants this one.")),
                new PoisonRecordException("unknown collection"),
                1);
        // Offsets 3 and 4, written by hand: one naming no source topic, one naming another topic.
        try (var producer = KafkaTopics.producer()) {
            producer.send(new ProducerRecord<>(dlq, "default/orphan", "{}")).get();
            RecordHeaders elsewhere = new RecordHeaders();
            elsewhere.add(KafkaDeadLetters.TOPIC, (prefix + "training").getBytes(StandardCharsets.UTF_8));
            producer.send(new ProducerRecord<>(dlq, null, "default/astray", "{}", elsewhere))
                    .get();
        }
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    @Test
    @Order(1)
    void theDeadLetterTopicsAreListedWithTheirSourceAndOffsets() throws Exception {
        JsonNode topics = ok(console.get("/api/v1/dead-letters/topics", VIEWER));

        JsonNode ours = null;
        for (JsonNode t : topics.get("items")) {
            assertThat(t.get("topic").asText())
                    .as("only this deployment's")
                    .startsWith(prefix)
                    .endsWith(".dlq");
            if (t.get("topic").asText().equals(dlq)) {
                ours = t;
            }
        }
        assertThat(ours).isNotNull();
        assertThat(topics.get("items").findValuesAsText("topic"))
                .as("look-alike topics of another deployment or application")
                .doesNotContain(prefix + "other.documents.dlq", prefix + "payments.dlq");
        assertThat(console.get("/api/v1/dead-letters/topics/" + prefix + "payments.dlq/records?partition=0", VIEWER)
                        .statusCode())
                .isEqualTo(404);
        assertThat(console.post(
                                "/api/v1/dead-letters/topics/" + prefix + "other.documents.dlq/records/0/0/redrive",
                                OPERATOR,
                                null)
                        .statusCode())
                .isEqualTo(404);
        assertThat(ours.get("source_topic").asText()).isEqualTo(source);
        assertThat(ours.get("partitions").get(0).get("partition").asInt()).isZero();
        assertThat(ours.get("partitions").get(0).get("start_offset").asLong()).isZero();
        assertThat(ours.get("partitions").get(0).get("end_offset").asLong()).isEqualTo(5);
        assertThat(topics.get("next").isNull()).isTrue();
    }

    @Test
    @Order(2)
    void recordsAreReadByPartitionAndOffsetWithTheirReasonAndPagedByCursor() throws Exception {
        JsonNode all = ok(console.get(records, VIEWER));
        assertThat(all.get("items")).hasSize(5);
        JsonNode kept = all.get("items").get(0);
        assertThat(kept.get("topic").asText()).isEqualTo(dlq);
        assertThat(kept.get("partition").asInt()).isZero();
        assertThat(kept.get("offset").asLong()).isZero();
        assertThat(kept.get("key").asText()).isEqualTo("default/kept");
        assertThat(kept.get("value").asText()).contains("A document dead-lettered by a passing fault.");
        assertThat(kept.get("reason").asText()).isEqualTo("IllegalStateException: collection 'default' is paused");
        assertThat(kept.get("headers").get(KafkaDeadLetters.TOPIC).asText()).isEqualTo(source);
        assertThat(kept.get("headers").get(KafkaDeadLetters.ATTEMPTS).asText()).isEqualTo("3");
        assertThat(kept.get("disposition").isNull()).isTrue();
        assertThat(kept.get("timestamp").asText()).endsWith("Z");
        assertThat(all.get("items").get(3).get("reason").isNull()).isTrue();

        JsonNode first = ok(console.get(records + "?limit=2", VIEWER));
        assertThat(offsets(first)).containsExactly(0L, 1L);
        JsonNode second = ok(console.get(
                records + "?limit=2&after=" + encode(first.get("next").asText()), VIEWER));
        assertThat(offsets(second)).containsExactly(2L, 3L);
        JsonNode last = ok(console.get(
                records + "?limit=2&after=" + encode(second.get("next").asText()), VIEWER));
        assertThat(offsets(last)).containsExactly(4L);
        assertThat(last.get("next").isNull()).isTrue();
        assertThat(offsets(ok(console.get(records + "?partition=0&offset=3", VIEWER))))
                .containsExactly(3L, 4L);

        assertProblem(console.get(records + "?offset=3", VIEWER), 400, "offset: needs a partition");
        assertProblem(console.get(records + "?partition=x", VIEWER), 400, "partition");
        assertProblem(console.get(records + "?after=bm9wZQ", VIEWER), 400, "after");
        assertProblem(console.get(records + "?limit=501", VIEWER), 400, "limit");
        assertProblem(console.get(records + "?partition=7", VIEWER), 404, "has no partition 7");
        assertProblem(
                console.get("/api/v1/dead-letters/topics/" + prefix + "nothing.dlq/records", VIEWER),
                404,
                "no dead-letter topic");
        assertProblem(
                console.get("/api/v1/dead-letters/topics/" + source + "/records", VIEWER),
                404,
                "dead-letter topics are <prefix><topic>.dlq");
    }

    @Test
    @Order(3)
    void aRedriveAsItWasPublishesTheRecordToItsSourceTopicOnceWithItsKeyAndIsRecorded() throws Exception {
        HttpResponse<String> r = console.post(records + "/0/0/redrive", OPERATOR, null);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode answer = Json.MAPPER.readTree(r.body());
        assertThat(answer.get("topic").asText()).isEqualTo(source);
        assertThat(answer.get("dead_letter").get("offset").asLong()).isZero();
        assertThat(answer.get("disposition").get("action").asText()).isEqualTo("redriven");
        assertThat(answer.get("disposition").get("by").asText()).isEqualTo("otto");
        List<ConsumerRecord<String, String>> published = KafkaTopics.readAll(source, Duration.ofSeconds(30));
        assertThat(published).hasSize(1);
        ConsumerRecord<String, String> again = published.get(0);
        assertThat(again.key()).isEqualTo("default/kept");
        assertThat(again.value()).contains("A document dead-lettered by a passing fault.");
        assertThat(again.offset()).isEqualTo(answer.get("offset").asLong());
        assertThat(header(again, DeadLetterTopics.REDRIVEN_FROM)).isEqualTo(dlq + "/0/0");
        assertThat(again.headers().toArray())
                .noneMatch(h -> h.key().startsWith("ragline.dlq."))
                .anyMatch(h -> h.key().equals("trace-id"));

        assertProblem(console.post(records + "/0/0/redrive", OPERATOR, null), 409, "was redriven by otto");
        assertProblem(console.post(records + "/0/0/discard", OPERATOR, null), 409, "was redriven by otto");
        assertThat(KafkaTopics.readAll(source, Duration.ofSeconds(30)))
                .as("published once")
                .hasSize(1);
        JsonNode listed = ok(console.get(records + "?partition=0&offset=0&limit=1", VIEWER));
        assertThat(listed.get("items").get(0).get("disposition").get("action").asText())
                .isEqualTo("redriven");
        assertThat(db.queryValue("select actor || ' ' || actor_role || ' ' || action || ' ' || (detail->>'offset')"
                        + " from dead_letter_dispositions where kind = 'kafka' and kafka_offset = 0"))
                .isEqualTo("otto operator redriven " + again.offset());
    }

    @Test
    @Order(4)
    void aReplacementMustKeepItsTopicsContractAndIsPublishedInsteadOfTheValue() throws Exception {
        assertThat(fieldError(
                        console.post(
                                records + "/0/1/redrive", OPERATOR, "{\"value\": \"{\\\"op\\\": \\\"upsert\\\"}\"}"),
                        "value"))
                .contains("missing id");
        assertThat(fieldError(console.post(records + "/0/1/redrive", OPERATOR, "{\"value\": 5}"), "value"))
                .isEqualTo("must be a string, not number");
        assertThat(fieldError(console.post(records + "/0/1/redrive", OPERATOR, "{\"fix\": \"x\"}"), "fix"))
                .isEqualTo("unknown field");
        assertProblem(console.post(records + "/0/1/redrive", OPERATOR, "{bad"), 400, "the body is not JSON");
        assertProblem(console.post(records + "/0/1/redrive", OPERATOR, "[1]"), 400, "must be a JSON object");
        assertThat(dispositions()).as("nothing recorded").isEqualTo(1);

        String fixed = document("broken", "The fixed text.");
        HttpResponse<String> r = console.post(
                records + "/0/1/redrive",
                OPERATOR,
                Json.object().put("value", fixed).toString());

        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        List<ConsumerRecord<String, String>> published = KafkaTopics.readAll(source, Duration.ofSeconds(30));
        assertThat(published).hasSize(2);
        assertThat(published.get(1).key()).isEqualTo("default/broken");
        assertThat(published.get(1).value()).isEqualTo(fixed);
        assertThat(db.queryValue("select detail->>'replaced' from dead_letter_dispositions where kafka_offset = 1"))
                .isEqualTo("true");
    }

    @Test
    @Order(5)
    void aDeadLetterThatNamesNoSourceOfThisTopicIsNotRedrivenAndUnknownRecordsAre404() throws Exception {
        assertProblem(console.post(records + "/0/3/redrive", OPERATOR, null), 422, "names no source topic");
        assertProblem(
                console.post(records + "/0/4/redrive", OPERATOR, null),
                422,
                "names the source topic " + prefix + "training");
        assertProblem(console.post(records + "/0/5/redrive", OPERATOR, null), 404, "holds no record at offset 5");
        assertProblem(console.post(records + "/0/abc/redrive", OPERATOR, null), 404, "names no record");
        assertProblem(console.post(records + "/3/0/redrive", OPERATOR, null), 404, "has no partition 3");
        assertProblem(
                console.post(
                        "/api/v1/dead-letters/topics/" + prefix + "nothing.dlq/records/0/0/redrive", OPERATOR, null),
                404,
                "no dead-letter topic");
        assertProblem(console.post(records + "/0/9/discard", OPERATOR, null), 404, "holds no record at offset 9");
        assertThat(dispositions()).as("nothing recorded").isEqualTo(2);
        assertThat(KafkaTopics.readAll(source, Duration.ofSeconds(30)))
                .as("nothing published")
                .hasSize(2);
    }

    @Test
    @Order(6)
    void aDiscardIsRecordedOnceAndPublishesNothing() throws Exception {
        HttpResponse<String> r = console.post(records + "/0/2/discard", OPERATOR, null);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(Json.MAPPER
                        .readTree(r.body())
                        .get("disposition")
                        .get("action")
                        .asText())
                .isEqualTo("discarded");
        assertProblem(console.post(records + "/0/2/discard", OPERATOR, null), 409, "was discarded by otto");
        assertProblem(console.post(records + "/0/2/redrive", OPERATOR, null), 409, "was discarded by otto");
        assertThat(KafkaTopics.readAll(source, Duration.ofSeconds(30))).hasSize(2);
    }

    @Test
    @Order(7)
    void anOutboxDeadLetterRedrivenReachesKafkaExactlyOnce() throws Exception {
        outboxDeadLetter(900001, "k-1", "{\"n\": 1}");
        outboxDeadLetter(900002, "k-2", "{\"n\": 2}");
        JsonNode listed = ok(console.get("/api/v1/dead-letters/outbox?topic=redrive-check", VIEWER));
        assertThat(listed.get("items")).hasSize(2);
        JsonNode row = listed.get("items").get(0);
        assertThat(row.get("id").asLong()).as("newest first").isEqualTo(900002);
        assertThat(row.get("payload").get("n").asInt()).isEqualTo(2);
        assertThat(row.get("headers").get("h").asText()).isEqualTo("v");
        assertThat(row.get("priority").asInt()).isEqualTo(3);
        assertThat(row.get("attempts").asInt()).isEqualTo(5);
        assertThat(row.get("last_error").asText()).contains("RecordTooLargeException");
        JsonNode page = ok(console.get("/api/v1/dead-letters/outbox?limit=1", VIEWER));
        assertThat(page.get("items").get(0).get("id").asLong()).isEqualTo(900002);
        JsonNode rest = ok(console.get(
                "/api/v1/dead-letters/outbox?limit=1&after="
                        + encode(page.get("next").asText()),
                VIEWER));
        assertThat(rest.get("items").get(0).get("id").asLong()).isEqualTo(900001);
        assertProblem(console.get("/api/v1/dead-letters/outbox?after=%2A", VIEWER), 400, "after");

        HttpResponse<String> r = console.post("/api/v1/dead-letters/outbox/900001/redrive", OPERATOR, null);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        assertThat(db.queryValue("select count(*) from outbox_dead_letters where id = 900001"))
                .isEqualTo(0L);
        await().atMost(Duration.ofSeconds(60)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
        assertProblem(console.post("/api/v1/dead-letters/outbox/900001/redrive", OPERATOR, null), 409, "redriven");
        assertProblem(console.post("/api/v1/dead-letters/outbox/900001/discard", OPERATOR, null), 409, "redriven");
        assertThat((long) db.queryValue("select count(*) from outbox"))
                .as("nothing queued again")
                .isZero();
        List<ConsumerRecord<String, String>> published =
                KafkaTopics.readAll(prefix + "redrive-check", Duration.ofSeconds(30));
        assertThat(published).as("exactly once").hasSize(1);
        assertThat(published.get(0).key()).isEqualTo("k-1");
        assertThat(Json.MAPPER.readTree(published.get(0).value()).get("n").asInt())
                .isEqualTo(1);
        assertThat(header(published.get(0), "h")).isEqualTo("v");
        assertThat(header(published.get(0), DeadLetterTopics.REDRIVEN_FROM)).isEqualTo("outbox_dead_letters/900001");
    }

    @Test
    @Order(8)
    void anOutboxDeadLetterDiscardedIsKeptInItsDispositionAndUnknownIdsAre404() throws Exception {
        HttpResponse<String> r = console.post("/api/v1/dead-letters/outbox/900002/discard", OPERATOR, null);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(db.queryValue("select count(*) from outbox_dead_letters")).isEqualTo(0L);
        assertThat(db.queryValue("select dead_letter->>'key' || ' ' || (dead_letter->'payload'->>'n') || ' ' || actor"
                        + " from dead_letter_dispositions where outbox_id = 900002"))
                .isEqualTo("k-2 2 otto");
        assertProblem(console.post("/api/v1/dead-letters/outbox/900002/discard", OPERATOR, null), 409, "discarded");
        long outbox = (long) db.queryValue("select count(*) from outbox");
        assertProblem(
                console.post("/api/v1/dead-letters/outbox/123456789/redrive", OPERATOR, null),
                404,
                "no outbox dead letter with id 123456789");
        assertProblem(
                console.post("/api/v1/dead-letters/outbox/123456789/discard", OPERATOR, null),
                404,
                "no outbox dead letter with id 123456789");
        assertProblem(console.post("/api/v1/dead-letters/outbox/abc/redrive", OPERATOR, null), 404, "not an id");
        assertThat((long) db.queryValue("select count(*) from outbox")).isEqualTo(outbox);
    }

    @Test
    @Order(9)
    void twoOperatorsRedrivingTheSameDeadLetterAtOnceSendItOnce() throws Exception {
        new KafkaDeadLetters(console.runtime().producer(), "ragline-documents", Duration.ofSeconds(30))
                .publish(
                        poison(5, "default/twice", document("twice", "Two operators fix me.")),
                        new IllegalStateException("collection 'default' is paused"),
                        3);
        outboxDeadLetter(900004, "k-4", "{\"n\": 4}");

        for (String path : List.of(records + "/0/5/redrive", "/api/v1/dead-letters/outbox/900004/redrive")) {
            var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                var first = pool.submit(() -> console.post(path, OPERATOR, null).statusCode());
                var second =
                        pool.submit(() -> console.post(path, OPERATOR, null).statusCode());
                assertThat(List.of(first.get(), second.get())).as(path).containsExactlyInAnyOrder(202, 409);
            } finally {
                pool.shutdown();
            }
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
        assertThat(KafkaTopics.readAll(source, Duration.ofSeconds(30)).stream()
                        .filter(r -> r.key().equals("default/twice")))
                .hasSize(1);
        assertThat(KafkaTopics.readAll(prefix + "redrive-check", Duration.ofSeconds(30)).stream()
                        .filter(r -> r.key().equals("k-4")))
                .hasSize(1);
    }

    @Test
    @Order(10)
    void aViewersRedriveOrDiscardIsRefusedAndWritesNothingButTheRefusal() throws Exception {
        outboxDeadLetter(900003, "k-3", "{\"n\": 3}");
        long audit = (long) db.queryValue("select count(*) from audit_log");
        long recorded = dispositions();

        assertProblem(console.post(records + "/0/3/redrive", VIEWER, null), 403, "needs the role operator");
        assertProblem(console.post(records + "/0/3/discard", VIEWER, null), 403, "needs the role operator");
        assertProblem(
                console.post("/api/v1/dead-letters/outbox/900003/redrive", VIEWER, null),
                403,
                "needs the role operator");
        assertProblem(
                console.post("/api/v1/dead-letters/outbox/900003/discard", VIEWER, null),
                403,
                "needs the role operator");

        assertThat(dispositions()).isEqualTo(recorded);
        assertThat(db.queryValue("select count(*) from outbox_dead_letters where id = 900003"))
                .isEqualTo(1L);
        assertThat((long) db.queryValue("select count(*) from outbox")).isZero();
        assertThat((long) db.queryValue("select count(*) from audit_log")).isEqualTo(audit + 4);
        assertThat(KafkaTopics.readAll(source, Duration.ofSeconds(30))).hasSize(3);
    }

    @Test
    @Order(11)
    void everyDeadLettersRouteAnsweredEachStatusItDeclares() {
        console.assertEveryRouteAnswered("/dead-letters");
    }

    @Test
    @Order(12)
    void theOpenApiDocumentValidatesAndDescribesEveryDeadLettersRoute() throws Exception {
        HttpResponse<String> r = console.get("/api/v1/openapi.json", null);
        assertThat(r.statusCode()).isEqualTo(200);
        var parsed = new io.swagger.parser.OpenAPIParser().readContents(r.body(), null, null);
        assertThat(parsed.getMessages()).isEmpty();
        assertThat(parsed.getOpenAPI().getPaths().keySet())
                .contains(
                        "/dead-letters/topics",
                        "/dead-letters/topics/{topic}/records",
                        "/dead-letters/topics/{topic}/records/{partition}/{offset}/redrive",
                        "/dead-letters/topics/{topic}/records/{partition}/{offset}/discard",
                        "/dead-letters/outbox",
                        "/dead-letters/outbox/{id}/redrive",
                        "/dead-letters/outbox/{id}/discard");
    }

    private static ConsumerRecord<byte[], byte[]> poison(long offset, String key, String value) {
        ConsumerRecord<byte[], byte[]> r = new ConsumerRecord<>(
                source, 0, offset, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
        r.headers().add("trace-id", ("t-" + offset).getBytes(StandardCharsets.UTF_8));
        return r;
    }

    private static String document(String id, String content) {
        return Json.object()
                .put("schema_version", 1)
                .put("op", "upsert")
                .put("collection", "default")
                .put("id", id)
                .put("content", content)
                .put("version", 1)
                .toString();
    }

    private static void outboxDeadLetter(long id, String key, String payload) throws Exception {
        db.execute("insert into outbox_dead_letters (id, topic, key, payload, headers, priority, created_at, attempts,"
                + " last_error) values (" + id + ", 'redrive-check', '" + key + "', '" + payload
                + "', '{\"h\": \"v\"}',"
                + " 3, now() - interval '1 hour', 5, 'org.apache.kafka.common.errors.RecordTooLargeException: the"
                + " message is 2000000 bytes')");
    }

    private static long dispositions() throws Exception {
        return (long) db.queryValue("select count(*) from dead_letter_dispositions where kind = 'kafka'");
    }

    private static String header(ConsumerRecord<String, String> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static List<Long> offsets(JsonNode page) {
        return java.util.stream.StreamSupport.stream(page.get("items").spliterator(), false)
                .map(i -> i.get("offset").asLong())
                .toList();
    }

    private static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.MAPPER.readTree(r.body());
    }

    private static String fieldError(HttpResponse<String> r, String field) throws Exception {
        assertProblem(r, 422, "");
        return Json.MAPPER.readTree(r.body()).get("errors").get(field).asText();
    }

    private static void assertProblem(HttpResponse<String> r, int status, String detail) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        assertThat(Json.MAPPER.readTree(r.body()).get("detail").asText()).contains(detail);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
