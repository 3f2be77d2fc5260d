package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.conversations.Conversations;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Conversation memory end to end, as {@code ragline all} wires the workers on a real Postgres, a
 * real broker and the real ONNX model: messages published to {@code conversations} for sessions
 * with a memory collection become documents of it, are embedded, and are found by meaning through
 * {@code POST /search}, filtered by session; deleting a session deletes its documents.
 */
class ConversationMemoryIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient http = HttpClient.newHttpClient();

    @Test
    void pastTurnsOfASessionAreFoundByMeaningAndLeaveWithTheirSession() throws Exception {
        String prefix = "mem" + UUID.randomUUID().toString().substring(0, 8) + ".";
        int searchPort;
        try (ServerSocket s = new ServerSocket(0)) {
            searchPort = s.getLocalPort();
        }
        db.execute("insert into collections (name) values ('memory')");
        Map<String, String> env = AllWorkers.env(db.env());
        env.put("RAGLINE_SEARCH_PORT", String.valueOf(searchPort));
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        try (WorkerRuntime runtime = AllWorkers.start(env);
                KafkaProducer<String, String> producer = KafkaTopics.producer()) {
            List<String> trip = List.of(
                    "We are planning a week in Lisbon in May.",
                    "Book the flight from Berlin to Lisbon on the third of May, window seat please.",
                    "The hotel near the river has a rooftop terrace.");
            List<String> garden = List.of(
                    "The tomato plants need watering twice a day in summer.",
                    "Prune the roses in early spring before the buds open.");
            send(producer, prefix, "trip", trip);
            send(producer, prefix, "garden", garden);

            await().atMost(Duration.ofMinutes(1))
                    .until(() -> (long) db.queryValue("select count(*) from conversation_messages") == 5);
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> (long) db.queryValue(
                                    "select count(*) from documents where external_id like" + " 'conversation/%'")
                            == 5);
            await().atMost(Duration.ofMinutes(3))
                    .until(() -> (long) db.queryValue("select count(*) from documents where status = 'embedded'"
                                    + " and external_id like 'conversation/%'")
                            == 5);
            assertThat(db.queryValue("select title from documents where external_id = 'conversation/trip/m1'"))
                    .isEqualTo("Session trip");

            JsonNode flights = search(searchPort, "when does the plane leave", "{\"conversation_session\": \"trip\"}");
            assertThat(flights.get(0).get("document_id").asText()).isEqualTo("conversation/trip/m1");
            assertThat(flights.get(0).get("metadata").get("conversation_role").asText())
                    .isEqualTo("user");
            JsonNode plants = search(searchPort, "when does the plane leave", "{\"conversation_session\": \"garden\"}");
            assertThat(ids(plants)).isNotEmpty().allMatch(id -> id.startsWith("conversation/garden/"));

            try (Connection c = db.connect()) {
                assertThat(Conversations.delete(c, "garden")).isTrue();
            }
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> (long) db.queryValue("select count(*) from documents where status = 'deleted'"
                                    + " and external_id like 'conversation/garden/%'")
                            == 2);
            assertThat(ids(search(searchPort, "watering the tomatoes", "{}")))
                    .allMatch(id -> id.startsWith("conversation/trip/"));
        }
    }

    private static void send(KafkaProducer<String, String> producer, String prefix, String session, List<String> turns)
            throws Exception {
        for (int i = 0; i < turns.size(); i++) {
            String value = JSON.createObjectNode()
                    .put("session_id", session)
                    .put("message_id", "m" + i)
                    .put("role", i % 2 == 0 ? "assistant" : "user")
                    .put("content", turns.get(i))
                    .set(
                            "session",
                            JSON.createObjectNode()
                                    .put("title", "Session " + session)
                                    .put("collection", "memory"))
                    .toString();
            producer.send(new ProducerRecord<>(prefix + "conversations", session, value))
                    .get();
        }
    }

    private static JsonNode search(int port, String query, String filter) throws Exception {
        String body = "{\"query\": " + JSON.writeValueAsString(query) + ", \"collection\": \"memory\", \"k\": 3,"
                + " \"filter\": " + filter + "}";
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/search"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body()).get("results");
    }

    private static List<String> ids(JsonNode results) {
        List<String> ids = new ArrayList<>();
        results.forEach(r -> ids.add(r.get("document_id").asText()));
        return ids;
    }
}
