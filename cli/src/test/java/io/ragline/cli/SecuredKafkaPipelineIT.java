package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.SecuredKafka;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole pipeline through a secured broker, configured only through {@code KAFKA_BOOTSTRAP_SERVERS},
 * {@code RAGLINE_KAFKA_PROPERTIES_FILE} and {@code RAGLINE_KAFKA_<NAME>}: every worker wired as
 * {@code ragline all} (dispatcher, ingest, embedding, training), {@code ragline publish}'s own
 * producer, the topics created by the workers' admin client. Once through the SASL_SSL
 * (SCRAM-SHA-512) listener, once through the mutual-TLS listener of one broker that has no
 * PLAINTEXT listener a client of this test uses.
 */
class SecuredKafkaPipelineIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @RegisterExtension
    static final SecuredKafka kafka = new SecuredKafka();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WEBHOOK_SECRET = "secured-kafka-it-secret";
    private static final HttpClient http = HttpClient.newHttpClient();
    private static final String RULES = """
            {"rules": [
              {"name": "issues", "match": "github/issues", "action": "ingest_document",
               "fixed": {"collection": "default"},
               "paths": {"id": "/payload/issue/number", "title": "/payload/issue/title",
                         "content": "/payload/issue/body"}},
              {"name": "train", "source": "github", "event_type": "workflow_*", "action": "request_training",
               "fixed": {"task": "classification", "backend": "builtin",
                         "data": {"collection": "default", "label_path": "team"}},
               "paths": {"project": "/payload/project"}}
            ]}
            """;

    @TempDir
    static Path dir;

    @ParameterizedTest(name = "through the {0} listener")
    @ValueSource(strings = {"SASL_SSL", "SSL"})
    void aPublishedDocumentAWebhookAndATrainingRequestPassThroughTheSecuredListener(String protocol) throws Exception {
        String run = protocol.toLowerCase(Locale.ROOT).replace('_', '-');
        Map<String, String> kafkaEnv = "SSL".equals(protocol) ? kafka.mtlsEnv() : kafka.saslSslEnv();
        assertThat(kafkaEnv.get("RAGLINE_KAFKA_SECURITY_PROTOCOL")).isEqualTo(protocol);
        int webhookPort = freePort();
        int searchPort = freePort();
        Map<String, String> env = AllWorkers.env(db.env());
        env.putAll(kafkaEnv);
        env.put("RAGLINE_TOPIC_PREFIX", run + ".");
        env.put("RAGLINE_GROUP_PREFIX", run);
        env.put("RAGLINE_HTTP_PORT", String.valueOf(webhookPort));
        env.put("RAGLINE_SEARCH_PORT", String.valueOf(searchPort));
        env.put("RAGLINE_CONSOLE_PORT", "0");
        env.put("RAGLINE_WEBHOOK_GITHUB_SCHEME", "github");
        env.put("RAGLINE_WEBHOOK_GITHUB_SECRET", WEBHOOK_SECRET);
        Path rules = Files.writeString(dir.resolve(run + "-rules.json"), RULES);
        env.put("RAGLINE_ROUTING_RULES", rules.toString());

        try (WorkerRuntime runtime = AllWorkers.start(env)) {
            runtime.markStarted();
            Path doc = Files.writeString(
                    dir.resolve(run + "-glaciers.txt"),
                    "Glaciers are rivers of ice that carve valleys as they slowly flow downhill.");
            assertThat(new PublishCommand().publish(new Env(env), List.of(doc), "default"))
                    .isEqualTo(1);
            awaitEmbedded(doc.toString());
            // both runs publish the same text into the collection 'default' of one schema: their
            // documents tie, so this run's is one of the two best, in either order
            JsonNode hits = search(searchPort, "slow rivers of frozen water shaping valleys", 2);
            assertThat(List.of(
                            hits.get(0).get("document_id").asText(),
                            hits.path(1).path("document_id").asText()))
                    .contains(doc.toString());

            String issue = "{\"issue\":{\"number\":" + (protocol.length() * 1000) + ",\"title\":\"Kettle\","
                    + "\"body\":\"The kettle in the kitchen whistles although it is switched off.\"}}";
            assertThat(github(webhookPort, "issues", run + "-issue", issue).statusCode())
                    .isEqualTo(200);
            assertThat(github(webhookPort, "workflow_run", run + "-train", "{\"project\":\"" + run + "\"}")
                            .statusCode())
                    .isEqualTo(200);

            awaitEmbedded(String.valueOf(protocol.length() * 1000));
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> (long) db.queryValue("select count(*) from claude_events where delivery_id in ('" + run
                                    + "-issue', '" + run + "-train') and status = 'processed'")
                            == 2);
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> (long) db.queryValue("select count(*) from training_jobs where request_id ="
                                    + " 'github/" + run + "-train' and project = '" + run + "'")
                            == 1);
            assertThat(runtime.exitCode()).isZero();
        }
        // Only the workers' admin client creates dead-letter topics beside the topics they consume
        // (the broker would create topics on first use, never a dead-letter topic nobody wrote to).
        try (Admin admin =
                Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.plaintextBootstrap()))) {
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
                    .contains(run + ".documents.dlq", run + ".embedding-requests.dlq", run + ".training.dlq");
        }
    }

    private static void awaitEmbedded(String externalId) {
        await().atMost(Duration.ofMinutes(3))
                .until(() -> "embedded"
                        .equals(db.queryValue(
                                "select status from documents where external_id = '" + externalId + "'")));
    }

    private static JsonNode search(int port, String query, int k) throws Exception {
        return SearchRequest.results(http, port, query, k);
    }

    private static HttpResponse<String> github(int port, String event, String delivery, String body) throws Exception {
        return GithubWebhook.send(http, port, WEBHOOK_SECRET, event, delivery, body);
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
