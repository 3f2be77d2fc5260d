package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.core.WorkerRuntime;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Signed webhooks routed end to end, as {@code ragline all} runs them: real HTTP into the
 * receiver, the dispatcher publishing claude_events, the routing consumer applying the rules of a
 * rules file and of the routing_rules table, the documents pipeline embedding what it routed; real
 * Postgres, a real broker, the real ONNX model. The operator's {@code events} commands run as
 * processes.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebhookRoutingIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "routing-it-secret";
    private static final HttpClient http = HttpClient.newHttpClient();
    static final String RULES = """
            {"rules": [
              {"name": "issues", "match": "github/issues", "action": "ingest_document",
               "fixed": {"collection": "default"},
               "paths": {"id": "/payload/issue/number", "title": "/payload/issue/title",
                         "content": "/payload/issue/body", "metadata": "/payload/issue/meta"}},
              {"name": "pushes", "match": "github/push", "action": "record"},
              {"name": "train", "source": "github", "event_type": "workflow_*", "action": "request_training",
               "fixed": {"task": "classification", "backend": "builtin", "deploy": "if_better",
                         "data": {"collection": "default", "label_path": "team"}},
               "paths": {"project": "/payload/project", "test_size": "/payload/split"}}
            ]}
            """;

    static String prefix;
    static Map<String, String> env;
    static WorkerRuntime runtime;
    static int webhookPort;
    static int searchPort;
    static KafkaProducer<String, String> producer;

    @BeforeAll
    static void start() throws Exception {
        prefix = "route" + UUID.randomUUID().toString().substring(0, 8) + ".";
        // One partition, so the poison test can check that the partition keeps flowing.
        KafkaTopics.createNamed(prefix + "claude_events", 1);
        KafkaTopics.createNamed(prefix + "training", 1);
        webhookPort = freePort();
        searchPort = freePort();
        Path rules = Files.createTempFile("routing-rules", ".json");
        Files.writeString(rules, RULES);
        rules.toFile().deleteOnExit();
        env = new HashMap<>(db.env());
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        Map<String, String> workers = AllWorkers.env(env);
        workers.put("RAGLINE_SEARCH_PORT", String.valueOf(searchPort));
        workers.put("RAGLINE_CONSOLE_PORT", "0");
        workers.put("RAGLINE_HTTP_PORT", String.valueOf(webhookPort));
        workers.put("RAGLINE_WEBHOOK_GITHUB_SCHEME", "github");
        workers.put("RAGLINE_WEBHOOK_GITHUB_SECRET", SECRET);
        workers.put("RAGLINE_ROUTING_RULES", rules.toString());
        workers.put("RAGLINE_ROUTING_RULES_REFRESH", "200ms");
        runtime = AllWorkers.start(workers);
        producer = KafkaTopics.producer();
    }

    @AfterAll
    static void stop() {
        if (producer != null) {
            producer.close();
        }
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    @Order(1)
    void aWebhookWhoseRuleIsIngestDocumentEndsAsASearchableDocument() throws Exception {
        String body = "{\"action\":\"opened\",\"issue\":{\"number\":4711,\"title\":\"Printer on fire\","
                + "\"body\":\"The office printer emits smoke and flames whenever a long report is printed.\","
                + "\"meta\":{\"team\":\"facilities\"}}}";
        assertThat(github("issues", "d-issue", body).statusCode()).isEqualTo(200);
        assertThat(github(
                                "issues",
                                "d-coffee",
                                "{\"issue\":{\"number\":4712,\"title\":\"Espresso\",\"body\":\"The kitchen"
                                        + " coffee grinder needs new beans and a descaling.\"}}")
                        .statusCode())
                .isEqualTo(200);

        awaitStatus("d-issue", "processed");
        await().atMost(Duration.ofMinutes(3))
                .until(() -> (long) db.queryValue("select count(*) from documents where status = 'embedded'") == 2);
        assertThat(db.queryValue("select attempts || ' ' || (processed_at is not null) || ' ' || (last_error is null)"
                        + " from claude_events where delivery_id = 'd-issue'"))
                .isEqualTo("1 true true");
        assertThat(db.queryValue("select title || ' ' || source || ' ' || (metadata->>'team') from documents"
                        + " where external_id = '4711'"))
                .isEqualTo("Printer on fire github/d-issue facilities");
        JsonNode hit = search("a burning printing machine at work").get(0);
        assertThat(hit.get("document_id").asText()).isEqualTo("4711");
    }

    @Test
    @Order(2)
    void aRecordRuleEndsProcessedAndTheEventIsOnTheClaudeEventsTopic() throws Exception {
        assertThat(github("push", "d-push", "{\"ref\":\"refs/heads/main\"}").statusCode())
                .isEqualTo(200);

        awaitStatus("d-push", "processed");
        List<ConsumerRecord<String, String>> onTopic = withKey(prefix + "claude_events", "github/d-push");
        assertThat(onTopic).hasSize(1);
        JsonNode message = JSON.readTree(onTopic.get(0).value());
        assertThat(message.get("event_type").asText()).isEqualTo("push");
        assertThat(message.get("payload").get("ref").asText()).isEqualTo("refs/heads/main");
    }

    @Test
    @Order(3)
    void anEventWithoutARuleEndsIgnored() throws Exception {
        assertThat(github("star", "d-star", "{\"starred\":true}").statusCode()).isEqualTo(200);

        awaitStatus("d-star", "ignored");
        assertThat(db.queryValue("select attempts from claude_events where delivery_id = 'd-star'"))
                .isEqualTo(1);
    }

    @Test
    @Order(4)
    void aRuleWhosePayloadLacksARequiredFieldFailsTheEventAndDeadLettersIt() throws Exception {
        assertThat(github("issues", "d-nobody", "{\"issue\":{\"number\":1,\"title\":\"No body\"}}")
                        .statusCode())
                .isEqualTo(200);

        awaitStatus("d-nobody", "failed");
        String expected = "rule 'issues' (ingest_document): required field 'content' has no value at"
                + " /payload/issue/body in the event";
        assertThat(db.queryValue("select last_error from claude_events where delivery_id = 'd-nobody'"))
                .isEqualTo(expected);
        List<ConsumerRecord<String, String>> dead = awaitKey(prefix + "claude_events.dlq", "github/d-nobody");
        assertThat(header(dead.get(0), "ragline.dlq.error.message")).isEqualTo(expected);
        assertThat(header(dead.get(0), "ragline.dlq.topic")).isEqualTo(prefix + "claude_events");
        assertThat(JSON.readTree(dead.get(0).value())
                        .get("payload")
                        .get("issue")
                        .get("title")
                        .asText())
                .isEqualTo("No body");
        assertThat(db.queryValue("select count(*) from documents where external_id = '1'"))
                .isEqualTo(0L);
    }

    @Test
    @Order(5)
    void aRequestTrainingRuleProducesATrainingRequest() throws Exception {
        assertThat(github("workflow_run", "d-train", "{\"project\":\"triage\",\"split\":0.3}")
                        .statusCode())
                .isEqualTo(200);

        awaitStatus("d-train", "processed");
        List<ConsumerRecord<String, String>> requests = awaitKey(prefix + "training", "triage");
        assertThat(JSON.readTree(requests.get(0).value()))
                .isEqualTo(JSON.readTree("{\"schema_version\":1,\"request_id\":\"github/d-train\",\"project\":"
                        + "\"triage\",\"task\":\"classification\",\"backend\":\"builtin\",\"data\":{\"collection\":"
                        + "\"default\",\"label_path\":\"team\"},\"hyperparameters\":{},\"test_size\":0.3,"
                        + "\"deploy\":\"if_better\"}"));
        // The training-worker's own decoder accepts it: the two sides of the contract agree.
        List<String> problems = new java.util.ArrayList<>();
        var request = io.ragline.contracts.training.TrainingRequestCodec.decode(
                (com.fasterxml.jackson.databind.node.ObjectNode)
                        JSON.readTree(requests.get(0).value()),
                problems,
                requests.get(0).key());
        assertThat(problems).isEmpty();
        assertThat(request.requestId()).isEqualTo("github/d-train");
    }

    @Test
    @Order(6)
    void aPoisonMessageGoesToTheDeadLetterTopicAndTheTableRulesRouteWhatFollows() throws Exception {
        try (var c = db.connect();
                var s = c.createStatement()) {
            s.execute("insert into routing_rules (name, source, action) values ('cron-jobs', 'cron', 'record')");
        }
        producer.send(new ProducerRecord<>(prefix + "claude_events", "github/garbage", "{not json"))
                .get();
        producer.send(new ProducerRecord<>(
                        prefix + "claude_events",
                        "github/ghost",
                        "{\"schema_version\":1,\"id\":999999,\"source\":\"github\",\"delivery_id\":\"ghost\","
                                + "\"event_type\":\"push\",\"payload\":{}}"))
                .get();
        insertCron("after-poison");

        awaitStatus("after-poison", "processed");
        List<ConsumerRecord<String, String>> dead = awaitKey(prefix + "claude_events.dlq", "github/garbage");
        assertThat(header(dead.get(0), "ragline.dlq.error.message")).startsWith("not JSON");
        assertThat(withKey(prefix + "claude_events.dlq", "github/ghost"))
                .as("an event without its row is skipped, not dead-lettered")
                .isEmpty();
        assertThat(scrape())
                .containsPattern("ragline_routing_events_total\\{[^}]*action=\"none\"[^}]*outcome=\"missing\""
                        + "[^}]*source=\"github\"[^}]*\\} 1.0");
    }

    @Test
    @Order(7)
    void aRedeliveredEventThatWasRoutedIsNotRoutedAgain() throws Exception {
        ConsumerRecord<String, String> original =
                withKey(prefix + "claude_events", "github/d-issue").get(0);
        producer.send(new ProducerRecord<>(prefix + "claude_events", original.key(), original.value()))
                .get();
        insertCron("after-redelivery");

        awaitStatus("after-redelivery", "processed");
        assertThat(db.queryValue("select attempts from claude_events where delivery_id = 'd-issue'"))
                .isEqualTo(1);
        assertThat(withKey(prefix + "documents", "default/4711")).hasSize(1);
        assertThat(scrape()).containsPattern("ragline_routing_events_total\\{[^}]*outcome=\"duplicate\"[^}]*\\} 1.0");
        assertThat(scrape())
                .containsPattern("ragline_routing_events_total\\{action=\"ingest_document\",outcome=\"processed\""
                        + "[^}]*source=\"github\"[^}]*\\} 2.0");
    }

    @Test
    @Order(8)
    void anOperatorListsEventsAndReplaysOneWhichIsRoutedOnceMore() throws Exception {
        long issue = (long) db.queryValue("select id from claude_events where delivery_id = 'd-issue'");

        JavaProcess replay = CliProcess.start(env, "events", "replay", Long.toString(issue));
        assertThat(replay.waitFor(60)).as(replay.stderr()).isZero();
        assertThat(replay.stdout()).contains("replaying event " + issue + " (github/d-issue, issues): replay 1");

        await().atMost(Duration.ofSeconds(60))
                .until(() -> "processed 2 1"
                        .equals(db.queryValue("select status || ' ' || attempts || ' ' || replays from claude_events"
                                + " where delivery_id = 'd-issue'")));
        assertThat(awaitKeyCount(prefix + "documents", "default/4711", 2)).hasSize(2);

        JavaProcess failed = CliProcess.start(env, "events", "list", "--status", "failed");
        assertThat(failed.waitFor(60)).as(failed.stderr()).isZero();
        assertThat(failed.stdout())
                .contains("DELIVERY ID")
                .contains("d-nobody")
                .contains("required field 'content'")
                .doesNotContain("d-push");
        JavaProcess github = CliProcess.start(env, "events", "list", "--source", "github", "--limit", "2");
        assertThat(github.waitFor(60)).as(github.stderr()).isZero();
        assertThat(github.stdout().lines().count()).isEqualTo(3);
        assertThat(github.stderr()).contains("2 events (the newest 2; --limit shows more)");
        JavaProcess all = CliProcess.start(env, "events", "list");
        assertThat(all.waitFor(60)).as(all.stderr()).isZero();
        assertThat(all.stdout())
                .containsPattern("d-issue +issues +processed +2 .*\\[replay 1\\]")
                .containsPattern("d-star +star +ignored +1 ")
                .contains("after-poison");

        JavaProcess bad = CliProcess.start(env, "events", "list", "--status", "done", "--limit", "0");
        assertThat(bad.waitFor(60)).isEqualTo(2);
        assertThat(bad.stderr()).contains("--status must be one of").contains("--limit must be between");
        JavaProcess missing = CliProcess.start(env, "events", "replay", "987654321");
        assertThat(missing.waitFor(60)).isEqualTo(1);
        assertThat(missing.stderr()).contains("no event with id 987654321");
    }

    private static HttpResponse<String> github(String event, String delivery, String body) throws Exception {
        return GithubWebhook.send(http, webhookPort, SECRET, event, delivery, body);
    }

    private static void insertCron(String delivery) throws Exception {
        try (var c = db.connect();
                var s = c.prepareStatement("insert into claude_events (source, delivery_id, event_type, payload)"
                        + " values ('cron', ?, 'nightly', '{}')")) {
            s.setString(1, delivery);
            s.executeUpdate();
        }
    }

    private static void awaitStatus(String delivery, String status) {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> status.equals(
                        db.queryValue("select status from claude_events where delivery_id = '" + delivery + "'")));
    }

    private static List<ConsumerRecord<String, String>> withKey(String topic, String key) {
        return KafkaTopics.readAll(topic, Duration.ofSeconds(30)).stream()
                .filter(r -> key.equals(r.key()))
                .toList();
    }

    private static List<ConsumerRecord<String, String>> awaitKey(String topic, String key) {
        return awaitKeyCount(topic, key, 1);
    }

    private static List<ConsumerRecord<String, String>> awaitKeyCount(String topic, String key, int count) {
        return await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> withKey(topic, key), r -> r.size() >= count);
    }

    private static String header(ConsumerRecord<String, String> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static JsonNode search(String query) throws Exception {
        return SearchRequest.results(http, searchPort, query, 1);
    }

    private static String scrape() throws Exception {
        return http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.adminPort() + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
