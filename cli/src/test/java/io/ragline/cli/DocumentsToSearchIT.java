package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.core.WorkerRuntime;
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
 * Documents published to Kafka become searchable, end to end: the dispatcher, ingest-worker and
 * embedding-worker wired as {@code ragline all} on a real Postgres, a real broker and the real
 * ONNX model, with real texts (the licences Debian ships, read at test time).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DocumentsToSearchIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> LICENSES = List.of("Apache-2.0", "CC0-1.0", "GPL-3", "MPL-2.0", "Artistic");
    private static final HttpClient http = HttpClient.newHttpClient();
    static String prefix;
    static WorkerRuntime runtime;
    static int searchPort;
    static KafkaProducer<String, String> producer;

    @BeforeAll
    static void start() throws Exception {
        prefix = "e2e" + UUID.randomUUID().toString().substring(0, 8) + ".";
        // One partition, so the poison test can check that the partition keeps flowing.
        KafkaTopics.createNamed(prefix + "documents", 1);
        try (ServerSocket s = new ServerSocket(0)) {
            searchPort = s.getLocalPort();
        }
        Map<String, String> env = AllWorkers.env(db.env());
        env.put("RAGLINE_SEARCH_PORT", String.valueOf(searchPort));
        env.put("RAGLINE_CONSOLE_PORT", "0");
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_DOCUMENT_MAX_BYTES", "100000");
        runtime = AllWorkers.start(env);
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
    void publishedDocumentsBecomeSearchableAndAParaphraseFindsTheRightOne() throws Exception {
        for (String name : LICENSES) {
            publish(name, Files.readString(Path.of("/usr/share/common-licenses", name)), 1);
        }
        awaitEmbedded(LICENSES.size());

        JsonNode results = search("a statement giving up all copyright so anyone may use the work freely", 3);

        assertThat(results.get(0).get("document_id").asText()).isEqualTo("CC0-1.0");
        assertThat(results.get(0).get("score").asDouble()).isPositive();
        assertThat(
                        (long)
                                db.queryValue(
                                        "select count(*) from chunks ch where not exists (select 1 from chunk_embeddings e where e.chunk_id = ch.id)"))
                .isZero();
        assertThat((long) db.queryValue("select count(*) from documents where chunk_count > 10"))
                .as("long licences are cut into many chunks")
                .isPositive();
    }

    @Test
    @Order(2)
    void theSameDocumentTwiceAddsNothingAndAnUpdateReplacesItsChunks() throws Exception {
        long chunksBefore = (long) db.queryValue("select count(*) from chunks");
        publish("CC0-1.0", Files.readString(Path.of("/usr/share/common-licenses/CC0-1.0")), 2);
        publish("notes", "The first version of the notes mentions zebras.", 1);
        awaitEmbedded(LICENSES.size() + 1);
        assertThat((long) db.queryValue("select count(*) from chunks where document_id <> (select id from documents"
                        + " where external_id = 'notes')"))
                .isEqualTo(chunksBefore);

        publish("notes", "The second version of the notes is about penguins in Antarctica.", 2);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> "embedded"
                        .equals(db.queryValue(
                                "select status from documents where external_id =" + " 'notes' and version = 2")));
        assertThat(db.queryValue("select string_agg(content, ' ') from chunks c join documents d on d.id ="
                        + " c.document_id where d.external_id = 'notes'"))
                .asString()
                .contains("penguins")
                .doesNotContain("zebras");
        assertThat(search("birds that live on the ice near the south pole", 1)
                        .get(0)
                        .get("document_id")
                        .asText())
                .isEqualTo("notes");
    }

    @Test
    @Order(3)
    void aStaleVersionArrivingLateLosesToTheNewestAndADeleteRemovesTheDocument() throws Exception {
        publish("versions", "Version five speaks of volcanoes.", 5);
        publish("versions", "Version three speaks of glaciers.", 3);
        publish("marker", "Written after the stale version.", 1);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> "embedded"
                        .equals(db.queryValue("select status from documents where external_id =" + " 'marker'")));
        assertThat(db.queryValue("select version from documents where external_id = 'versions'"))
                .isEqualTo(5L);
        assertThat(db.queryValue("select string_agg(content, ' ') from chunks c join documents d on d.id ="
                        + " c.document_id where d.external_id = 'versions'"))
                .asString()
                .contains("volcanoes");

        producer.send(new ProducerRecord<>(prefix + "documents", "default/versions", null))
                .get();
        await().atMost(Duration.ofSeconds(60))
                .until(() -> "deleted"
                        .equals(db.queryValue("select status from documents where external_id =" + " 'versions'")));
        assertThat((long) db.queryValue("select count(*) from chunks c join documents d on d.id = c.document_id"
                        + " where d.external_id = 'versions'"))
                .isZero();
        assertThat(search("volcanoes", 10).findValuesAsText("document_id")).doesNotContain("versions");
    }

    @Test
    @Order(4)
    void eachKindOfPoisonRecordGoesToTheDeadLetterTopicAndThePartitionKeepsFlowing() throws Exception {
        Map<String, String> poison = new java.util.LinkedHashMap<>();
        poison.put("default/a", "{not json");
        poison.put("default/b", "{\"op\":\"upsert\",\"content\":\"no id\"}");
        poison.put("nowhere/c", "{\"op\":\"upsert\",\"collection\":\"nowhere\",\"id\":\"c\",\"content\":\"x\"}");
        poison.put("default/d", "{\"op\":\"upsert\",\"id\":\"d\",\"content\":\"" + "x".repeat(200_000) + "\"}");
        poison.put("default/e", "{\"op\":\"upsert\",\"id\":\"e\",\"content\":\"x\",\"version\":\"seven\"}");
        for (Map.Entry<String, String> p : poison.entrySet()) {
            producer.send(new ProducerRecord<>(prefix + "documents", p.getKey(), p.getValue()))
                    .get();
        }
        publish("after-poison", "This document follows five bad records.", 1);

        await().atMost(Duration.ofSeconds(60))
                .until(() -> "embedded"
                        .equals(db.queryValue("select status from documents where external_id =" + " 'after-poison'")));
        List<ConsumerRecord<String, String>> dead =
                KafkaTopics.read(prefix + "documents.dlq", poison.size(), Duration.ofSeconds(30));
        // Records refused by the decoder are dead-lettered while polling, those refused by the
        // writer (an unknown collection) when their batch is written: the DLQ's order may differ.
        Map<String, String> reasons = dead.stream()
                .collect(java.util.stream.Collectors.toMap(ConsumerRecord::key, DocumentsToSearchIT::reason));
        assertThat(reasons).containsOnlyKeys(poison.keySet());
        assertThat(reasons.get("default/a")).contains("not JSON");
        assertThat(reasons.get("default/b")).contains("missing id");
        assertThat(reasons.get("nowhere/c")).contains("unknown collection 'nowhere'");
        assertThat(reasons.get("default/d")).contains("content too large");
        assertThat(reasons.get("default/e")).contains("version must be a non-negative integer");
    }

    @Test
    @Order(5)
    void badSearchRequestsGetTheirStatusCodes() throws Exception {
        assertThat(post("{not json").statusCode()).isEqualTo(400);
        assertThat(post("{\"k\":3}").statusCode()).isEqualTo(400);
        assertThat(post("{\"query\":\"x\",\"k\":1000}").statusCode()).isEqualTo(400);
        assertThat(post("{\"query\":\"x\",\"filter\":[1]}").statusCode()).isEqualTo(400);
        HttpResponse<String> unknown = post("{\"query\":\"x\",\"collection\":\"nowhere\"}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("unknown collection 'nowhere'");
        HttpResponse<String> get = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + searchPort + "/search"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(405);
        JsonNode filtered = JSON.readTree(post("{\"query\":\"licence\",\"k\":5,\"filter\":{\"source\":\"nobody\"}}")
                        .body())
                .get("results");
        assertThat(filtered).isEmpty();
    }

    /**
     * chunk_embeddings has no foreign key to chunks: the document's row lock and the delete trigger
     * keep them in step. Versions published back to back race the embedding-worker (whose requests
     * go obsolete while it embeds) and the ingest-worker (which replaces chunks under the same lock).
     */
    @Test
    @Order(6)
    void versionsRacingTheEmbeddingWorkerLeaveExactlyOneVectorPerLiveChunk() throws Exception {
        String text = Files.readString(Path.of("/usr/share/common-licenses", "Apache-2.0"));
        int documents = 12;
        int versions = 4;
        for (int v = 1; v <= versions; v++) {
            for (int d = 0; d < documents; d++) {
                // Version v of a document is v to 4v hundred characters of the licence: one to a few chunks.
                int from = (d * 997 + v * 131) % (text.length() - 2_000);
                publish("race-" + d, text.substring(from, from + 100 * v * (1 + d % 4)), v);
            }
            if (v == 1) { // the first versions embedded, so the later ones must delete their vectors
                await().atMost(Duration.ofMinutes(2))
                        .until(() -> (long) db.queryValue("select count(*) from documents where external_id like"
                                        + " 'race-%' and status = 'embedded'")
                                == documents);
            }
        }
        await().atMost(Duration.ofMinutes(4))
                .until(() -> (long) db.queryValue("select count(*) from documents where external_id like 'race-%'"
                                + " and status = 'embedded' and version = " + versions)
                        == documents);

        assertThat((long) db.queryValue("select count(*) from chunk_embeddings e where not exists"
                        + " (select 1 from chunks ch where ch.id = e.chunk_id)"))
                .as("vectors without their chunk")
                .isZero();
        assertThat((long) db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id ="
                        + " e.chunk_id where e.collection_id <> ch.collection_id"))
                .isZero();
        assertThat((long) db.queryValue("select count(*) from documents d where d.external_id like 'race-%' and"
                        + " (d.chunk_count < 1 or d.chunk_count <> (select count(*) from chunks ch where"
                        + " ch.document_id = d.id) or d.chunk_count <> (select count(*) from chunk_embeddings e join"
                        + " chunks ch on ch.id = e.chunk_id where ch.document_id = d.id))"))
                .as("documents whose chunks and vectors do not match one for one")
                .isZero();
    }

    private static HttpResponse<String> post(String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + searchPort + "/search"))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String reason(ConsumerRecord<String, String> r) {
        var header = r.headers().lastHeader("ragline.dlq.error.message");
        return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static void publish(String id, String content, long version) throws Exception {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("schema_version", 1);
        doc.put("op", "upsert");
        doc.put("collection", "default");
        doc.put("id", id);
        doc.put("title", id);
        doc.put("content", content);
        doc.put("version", version);
        doc.putObject("metadata").put("source", "test");
        producer.send(new ProducerRecord<>(prefix + "documents", "default/" + id, doc.toString()))
                .get();
    }

    private static void awaitEmbedded(int documents) {
        await().atMost(Duration.ofMinutes(3))
                .until(() ->
                        (long) db.queryValue("select count(*) from documents where status = 'embedded'") >= documents);
    }

    private static JsonNode search(String query, int k) throws Exception {
        return SearchRequest.results(http, searchPort, query, k);
    }
}
