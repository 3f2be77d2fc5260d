package io.ragline.console.deadletters;

import static io.ragline.console.ConsoleTestServer.OPERATOR;
import static io.ragline.console.ConsoleTestServer.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.console.ConsoleTestServer;
import io.ragline.console.api.Json;
import io.ragline.core.config.Env;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.ingest.IngestWorker;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The redrive an operator does: a poison document, dead-lettered to {@code documents.dlq} by the
 * real ingest-worker, is found through the console with its reason, fixed and redriven, and ends
 * embedded by the real embedding-worker (ONNX model), the dispatcher, ingest-worker,
 * embedding-worker and console wired on one runtime as {@code ragline all} wires them.
 */
class PoisonDocumentRedriveIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static ConsoleTestServer console;
    static String prefix;

    @BeforeAll
    static void start() {
        prefix = "poison" + UUID.randomUUID().toString().substring(0, 8) + ".";
        KafkaTopics.createNamed(prefix + "documents", 1);
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_OUTBOX_POLL_INTERVAL", "200ms");
        env.put("RAGLINE_HTTP_PORT", "0");
        env.put("RAGLINE_HTTP_HOST", "127.0.0.1");
        env.put(EmbeddingWorker.SEARCH_PORT, "0");
        console = ConsoleTestServer.start(env, (runtime, routes) -> {
            Env workers = new Env(env);
            var wirings = java.util.List.of(
                    EventDispatcher.wiring(workers),
                    IngestWorker.wiring(workers, 0),
                    EmbeddingWorker.wiring(workers, EmbeddingWorker.SEARCH_PORT, 0));
            workers.validate();
            wirings.forEach(w -> w.accept(runtime));
            new DeadLettersApi(runtime.settings(), runtime::producer).register(routes);
        });
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    @Test
    void aPoisonDocumentFixedAndRedrivenFromDocumentsDlqEndsEmbedded() throws Exception {
        try (var producer = KafkaTopics.producer()) {
            producer.send(
                            new ProducerRecord<>(
                                    prefix + "documents",
                                    "default/fixme",
                                    "{\"op\": \"upsert\", \"id\":"
                                            + " \"fixme\", \"content\": \"Penguins huddle on the ice.\", \"version\": \"seven\"}"))
                    .get();
        }
        String records = "/api/v1/dead-letters/topics/" + prefix + "documents.dlq/records";
        JsonNode deadLetter = await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> firstRecord(records), r -> r != null);
        assertThat(deadLetter.get("key").asText()).isEqualTo("default/fixme");
        assertThat(deadLetter.get("reason").asText()).contains("version must be a non-negative integer");
        assertThat(deadLetter.get("disposition").isNull()).isTrue();
        assertThat(db.queryValue("select count(*) from documents where external_id = 'fixme'"))
                .isEqualTo(0L);

        String fixed = deadLetter.get("value").asText().replace("\"seven\"", "7");
        HttpResponse<String> r = console.post(
                records + "/" + deadLetter.get("partition").asInt() + "/"
                        + deadLetter.get("offset").asLong() + "/redrive",
                OPERATOR,
                Json.object().put("value", fixed).toString());

        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(180))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> "embedded 7"
                        .equals(db.queryValue(
                                "select status || ' ' || version from documents where external_id = 'fixme'")));
        assertThat(db.queryValue("select count(*) from chunks c join chunk_embeddings e on e.chunk_id = c.id"
                        + " join documents d on d.id = c.document_id where d.external_id = 'fixme'"))
                .as("its chunk has its vector")
                .isEqualTo(1L);
        JsonNode after = firstRecord(records);
        assertThat(after.get("disposition").get("action").asText()).isEqualTo("redriven");
        assertThat(KafkaTopics.readAll(prefix + "documents.dlq", Duration.ofSeconds(30)))
                .as("the fixed document was not dead-lettered again")
                .hasSize(1);
    }

    private static JsonNode firstRecord(String records) throws Exception {
        HttpResponse<String> r = console.get(records, VIEWER);
        if (r.statusCode() == 404) {
            return null; // the ingest-worker has not created the dead-letter topic yet
        }
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode items = Json.MAPPER.readTree(r.body()).get("items");
        return items.isEmpty() ? null : items.get(0);
    }
}
