package io.ragline.console.conversations;

import static io.ragline.console.ConsoleTestServer.OPERATOR;
import static io.ragline.console.ConsoleTestServer.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.console.ConsoleTestServer;
import io.ragline.console.api.Json;
import io.ragline.testkit.PostgresSchema;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /api/v1/conversations} on a real console server and Postgres (worker login): sessions
 * created, listed, renamed and deleted with their messages; messages appended once each and read
 * back in order, page by page and latest N; every client error as a problem; a viewer who cannot
 * write.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConversationsApiIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static ConsoleTestServer console;

    @BeforeAll
    static void start() {
        console = ConsoleTestServer.start(db.env(), (runtime, routes) -> new ConversationsApi().register(routes));
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    @Test
    @Order(1)
    void sessionsAreCreatedListedNewestFirstAndFoundByMetadata() throws Exception {
        JsonNode support = created(console.post(
                "/api/v1/conversations",
                OPERATOR,
                "{\"id\": \"support-1\", \"title\": \"Printer\", \"metadata\": {\"team\": \"support\"}}"));
        assertThat(support.get("id").asText()).isEqualTo("support-1");
        assertThat(support.get("messages").asLong()).isZero();
        JsonNode generated = created(console.post("/api/v1/conversations", OPERATOR, "{}"));
        assertThat(generated.get("id").asText()).hasSize(36);
        assertThat(generated.get("title").isNull()).isTrue();

        assertThat(ids(ok(console.get("/api/v1/conversations", VIEWER))))
                .containsExactly(generated.get("id").asText(), "support-1");
        JsonNode first = ok(console.get("/api/v1/conversations?limit=1", VIEWER));
        assertThat(ids(first)).containsExactly(generated.get("id").asText());
        assertThat(ids(ok(console.get(
                        "/api/v1/conversations?limit=1&after="
                                + first.get("next").asText(),
                        VIEWER))))
                .containsExactly("support-1");
        assertThat(ids(ok(console.get("/api/v1/conversations?metadata=" + encode("{\"team\":\"support\"}"), VIEWER))))
                .containsExactly("support-1");

        assertProblem(
                console.post("/api/v1/conversations", OPERATOR, "{\"id\": \"support-1\"}"),
                409,
                "a session with id \"support-1\" exists");
        assertProblem(console.get("/api/v1/conversations?metadata=" + encode("[1]"), VIEWER), 400, "metadata");
        assertProblem(console.post("/api/v1/conversations", OPERATOR, "[1]"), 400, "must be a JSON object");
        assertThat(fieldError(console.post("/api/v1/conversations", OPERATOR, "{\"id\": 7}"), "id"))
                .isEqualTo("must be a string");
        assertThat(fieldError(console.post("/api/v1/conversations", OPERATOR, "{\"id\": \"a/b\"}"), "id"))
                .isEqualTo("must have no '/'");
        assertThat(fieldError(console.post("/api/v1/conversations", OPERATOR, "{\"colour\": \"blue\"}"), "colour"))
                .isEqualTo("unknown field");
        assertThat(fieldError(
                        console.post("/api/v1/conversations", OPERATOR, "{\"collection\": \"nope\"}"), "collection"))
                .isEqualTo("no collection named \"nope\"");
        db.execute("insert into collections (name) values ('memory')");
        JsonNode remembered = created(console.post(
                "/api/v1/conversations", OPERATOR, "{\"id\": \"remembered\", \"collection\": \"memory\"}"));
        assertThat(remembered.get("collection").asText()).isEqualTo("memory");
        assertThat(console.delete("/api/v1/conversations/remembered", OPERATOR).statusCode())
                .isEqualTo(204);
    }

    @Test
    @Order(2)
    void messagesAreAppendedOnceEachAndReadBackInOrder() throws Exception {
        StringBuilder body = new StringBuilder(
                "{\"messages\": [{\"role\": \"system\", \"id\": \"m0\"," + " \"content\": \"You fix printers.\"}");
        for (int i = 1; i <= 9; i++) {
            body.append(", {\"id\": \"m")
                    .append(i)
                    .append("\", \"role\": \"")
                    .append(i % 2 == 1 ? "user" : "assistant")
                    .append("\", \"content\": \"turn ")
                    .append(i)
                    .append("\", \"metadata\": {\"n\": ")
                    .append(i)
                    .append("}}");
        }
        body.append("]}");
        JsonNode appended =
                created(console.post("/api/v1/conversations/support-1/messages", OPERATOR, body.toString()));
        assertThat(appended.get("stored").asInt()).isEqualTo(10);
        assertThat(appended.get("items")).hasSize(10);

        JsonNode again = created(console.post(
                "/api/v1/conversations/support-1/messages",
                OPERATOR,
                "{\"messages\": [{\"id\": \"m9\", \"role\": \"assistant\", \"content\": \"changed?\"},"
                        + " {\"id\": \"m10\", \"role\": \"user\", \"content\": \"turn 10\","
                        + " \"created_at\": \"2026-12-05T10:15:30Z\"}]}"));
        assertThat(again.get("stored").asInt()).isEqualTo(1);
        assertThat(again.get("duplicates").asInt()).isEqualTo(1);
        assertThat(again.get("items").get(0).get("content").asText())
                .as("a stored message is kept")
                .isEqualTo("turn 9");
        assertThat(again.get("items").get(1).get("created_at").asText()).isEqualTo("2026-12-05T10:15:30Z");

        List<String> all = new ArrayList<>();
        String after = null;
        do {
            JsonNode page = ok(console.get(
                    "/api/v1/conversations/support-1/messages?limit=4" + (after == null ? "" : "&after=" + after),
                    VIEWER));
            page.get("items").forEach(m -> all.add(m.get("id").asText()));
            after = page.get("next").isNull() ? null : page.get("next").asText();
        } while (after != null);
        assertThat(all).containsExactly("m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10");
        JsonNode latest = ok(console.get("/api/v1/conversations/support-1/messages?latest=3", VIEWER));
        assertThat(ids(latest)).containsExactly("m8", "m9", "m10");
        assertThat(latest.get("items").get(0).get("metadata").get("n").asInt()).isEqualTo(8);
        assertThat(ok(console.get("/api/v1/conversations/support-1", VIEWER))
                        .get("messages")
                        .asLong())
                .isEqualTo(11);

        assertProblem(console.get("/api/v1/conversations/support-1/messages?latest=0", VIEWER), 400, "latest");
        assertProblem(
                console.post(
                        "/api/v1/conversations/nobody/messages",
                        OPERATOR,
                        "{\"messages\": [{\"id\": \"x\", \"role\": \"user\", \"content\": \"hi\"}]}"),
                404,
                "no conversation session with id \"nobody\"");
        assertProblem(console.get("/api/v1/conversations/nobody/messages", VIEWER), 404, "nobody");
        assertProblem(console.post("/api/v1/conversations/support-1/messages", OPERATOR, "{bad"), 400, "not JSON");
        JsonNode refused = problem(
                console.post(
                        "/api/v1/conversations/support-1/messages",
                        OPERATOR,
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"fine\", \"id\": \"ok-1\"},"
                                + " {\"id\": \"r\", \"role\": \"robot\", \"content\": \"x\"},"
                                + " {\"id\": \"c\", \"role\": \"user\"},"
                                + " {\"id\": \"t\", \"role\": \"user\", \"content\": \"x\", \"created_at\": \"yesterday\"},"
                                + " {\"id\": \"s\", \"role\": \"user\", \"content\": \"x\", \"seq\": 1},"
                                + " {\"role\": \"user\", \"content\": \"no id\"}]}"),
                422);
        assertThat(refused.get("errors").get("messages[1]").asText()).contains("role must be");
        assertThat(refused.get("errors").get("messages[2]").asText()).contains("missing content");
        assertThat(refused.get("errors").get("messages[3]").asText()).contains("created_at must be");
        assertThat(refused.get("errors").get("messages[4]").asText()).isEqualTo("unknown field seq");
        assertThat(refused.get("errors").get("messages[5]").asText()).startsWith("id is required");
        assertThat(refused.get("errors").has("messages[0]")).isFalse();
        assertThat(db.queryValue("select count(*) from conversation_messages where id = 'ok-1'"))
                .as("nothing of a refused append is stored")
                .isEqualTo(0L);
        assertThat(fieldError(
                        console.post("/api/v1/conversations/support-1/messages", OPERATOR, "{\"messages\": []}"),
                        "messages"))
                .contains("1 to 500");
    }

    @Test
    @Order(3)
    void aSessionIsRenamedAndDeletedWithItsMessages() throws Exception {
        JsonNode renamed = ok(console.patch("/api/v1/conversations/support-1", OPERATOR, "{\"title\": \"Printers\"}"));
        assertThat(renamed.get("title").asText()).isEqualTo("Printers");
        assertProblem(console.patch("/api/v1/conversations/nobody", OPERATOR, "{\"title\": \"x\"}"), 404, "nobody");
        assertProblem(console.patch("/api/v1/conversations/support-1", OPERATOR, "7"), 400, "must be a JSON object");
        assertThat(fieldError(console.patch("/api/v1/conversations/support-1", OPERATOR, "{}"), "title"))
                .contains("is required");

        assertThat(console.delete("/api/v1/conversations/support-1", OPERATOR).statusCode())
                .isEqualTo(204);
        assertThat(db.queryValue("select count(*) from conversation_messages where session_id = 'support-1'"))
                .isEqualTo(0L);
        assertProblem(console.get("/api/v1/conversations/support-1", VIEWER), 404, "support-1");
        assertProblem(console.delete("/api/v1/conversations/support-1", OPERATOR), 404, "support-1");
    }

    @Test
    @Order(4)
    void aViewerReadsButCannotWriteAndTheRefusalIsAudited() throws Exception {
        long audit = (long) db.queryValue("select count(*) from audit_log");
        assertProblem(console.post("/api/v1/conversations", VIEWER, "{}"), 403, "needs the role operator");
        assertThat((long) db.queryValue("select count(*) from audit_log")).isEqualTo(audit + 1);
        assertThat(db.queryValue("select status from audit_log order by id desc limit 1"))
                .isEqualTo(403);
        console.assertEveryRouteAnswered("/conversations");
    }

    private static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.MAPPER.readTree(r.body());
    }

    private static JsonNode created(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Json.MAPPER.readTree(r.body());
    }

    private static List<String> ids(JsonNode page) {
        List<String> ids = new ArrayList<>();
        page.get("items").forEach(i -> ids.add(i.get("id").asText()));
        return ids;
    }

    private static String fieldError(HttpResponse<String> r, String field) throws Exception {
        JsonNode body = problem(r, 422);
        assertThat(body.get("errors").has(field)).as(r.body()).isTrue();
        return body.get("errors").get(field).asText();
    }

    private static JsonNode problem(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        return Json.MAPPER.readTree(r.body());
    }

    private static void assertProblem(HttpResponse<String> r, int status, String detail) throws Exception {
        assertThat(problem(r, status).get("detail").asText()).contains(detail);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
