package io.ragline.console.events;

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
 * {@code /api/v1/events} on a real console server and Postgres: listing and filtering {@code
 * claude_events}, one event with its payload, replays of one or many (all or none) that go through
 * the outbox, every client error as a problem, and a viewer who cannot replay.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EventsApiIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static ConsoleTestServer console;
    static long issue;
    static long push;
    static long charge;

    @BeforeAll
    static void start() throws Exception {
        console = ConsoleTestServer.start(db.env(), (runtime, routes) -> new EventsApi().register(routes));
        issue = insert("github", "d-issue", "issues", "{\"issue\": {\"title\": \"Crash on start\"}}");
        push = insert("github", "d-push", "push", "{\"ref\": \"refs/heads/main\"}");
        charge = insert("stripe", "d-charge", "charge.succeeded", "{\"amount\": 1200}");
        db.execute(
                "update claude_events set status = 'processed', attempts = 1, processed_at = now() where id = " + push);
        db.execute("update claude_events set status = 'failed', attempts = 1, processed_at = now(),"
                + " last_error = 'rule issues: required field content has no value' where id = " + issue);
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    @Test
    @Order(1)
    void eventsAreListedNewestFirstAndFilteredBySourceTypeAndStatus() throws Exception {
        JsonNode all = ok(console.get("/api/v1/events", VIEWER));
        assertThat(ids(all)).containsExactly(charge, push, issue);
        assertThat(all.get("next").isNull()).isTrue();
        JsonNode failed = all.get("items").get(2);
        assertThat(failed.get("source").asText()).isEqualTo("github");
        assertThat(failed.get("delivery_id").asText()).isEqualTo("d-issue");
        assertThat(failed.get("event_type").asText()).isEqualTo("issues");
        assertThat(failed.get("status").asText()).isEqualTo("failed");
        assertThat(failed.get("error").asText()).contains("required field content");
        assertThat(failed.get("received_at").asText()).endsWith("Z");
        assertThat(failed.get("routed_at").asText()).endsWith("Z");
        assertThat(failed.has("payload")).as("a list carries no payloads").isFalse();

        assertThat(ids(ok(console.get("/api/v1/events?source=github", VIEWER)))).containsExactly(push, issue);
        assertThat(ids(ok(console.get("/api/v1/events?type=push", VIEWER)))).containsExactly(push);
        assertThat(ids(ok(console.get("/api/v1/events?status=failed", VIEWER)))).containsExactly(issue);
        assertThat(ids(ok(console.get("/api/v1/events?status=received&source=stripe", VIEWER))))
                .containsExactly(charge);
        assertThat(ids(ok(console.get("/api/v1/events?source=nobody", VIEWER)))).isEmpty();
        assertProblem(console.get("/api/v1/events?status=lost", VIEWER), 400, "status must be one of received");
    }

    @Test
    @Order(2)
    void aListIsPagedByItsCursorAndItsLimitIsBounded() throws Exception {
        JsonNode first = ok(console.get("/api/v1/events?limit=2", VIEWER));
        assertThat(ids(first)).containsExactly(charge, push);
        String next = first.get("next").asText();
        JsonNode second = ok(console.get("/api/v1/events?limit=2&after=" + encode(next), VIEWER));
        assertThat(ids(second)).containsExactly(issue);
        assertThat(second.get("next").isNull()).isTrue();

        assertProblem(console.get("/api/v1/events?limit=0", VIEWER), 400, "limit");
        assertProblem(console.get("/api/v1/events?limit=501", VIEWER), 400, "limit");
        assertProblem(console.get("/api/v1/events?after=%21%21", VIEWER), 400, "after");
    }

    @Test
    @Order(3)
    void oneEventCarriesItsPayloadAndHeadersAndAnUnknownIdIs404() throws Exception {
        JsonNode one = ok(console.get("/api/v1/events/" + issue, VIEWER));
        assertThat(one.get("id").asLong()).isEqualTo(issue);
        assertThat(one.get("payload").get("issue").get("title").asText()).isEqualTo("Crash on start");
        assertThat(one.get("headers").isObject()).isTrue();
        assertThat(one.get("priority").asInt()).isZero();

        assertProblem(console.get("/api/v1/events/987654321", VIEWER), 404, "no event with id 987654321");
        assertProblem(console.get("/api/v1/events/abc", VIEWER), 404, "is not an id that exists");
    }

    @Test
    @Order(4)
    void aReplayPutsTheEventBackToReceivedAndWritesItsMessageToTheOutboxAgain() throws Exception {
        long outboxBefore = outboxRows("github/d-issue");

        HttpResponse<String> r = console.post("/api/v1/events/" + issue + "/replay", OPERATOR, null);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode event = Json.MAPPER.readTree(r.body());
        assertThat(event.get("status").asText()).isEqualTo("received");
        assertThat(event.get("replays").asInt()).isEqualTo(1);
        assertThat(event.get("error").isNull()).isTrue();
        assertThat(db.queryValue("select status || ' ' || replays from claude_events where id = " + issue))
                .isEqualTo("received 1");
        assertThat(outboxRows("github/d-issue")).isEqualTo(outboxBefore + 1);
        assertThat(db.queryValue("select headers->>'ragline.event.replay' from outbox where key = 'github/d-issue'"
                        + " order by id desc limit 1"))
                .isEqualTo("1");
        assertThat(db.queryValue("select outcome from audit_log order by id desc limit 1"))
                .isEqualTo("replayed event " + issue);

        long outboxTotal = outboxRows(null);
        assertProblem(
                console.post("/api/v1/events/987654321/replay", OPERATOR, null), 404, "no event with id 987654321");
        assertThat(outboxRows(null)).as("nothing written").isEqualTo(outboxTotal);
    }

    @Test
    @Order(5)
    void aReplayOfSeveralEventsReplaysAllOrNone() throws Exception {
        long outboxTotal = outboxRows(null);
        String replaysBefore = replays();

        HttpResponse<String> missing =
                console.post("/api/v1/events/replay", OPERATOR, "{\"ids\": [" + push + ", " + charge + ", 987654321]}");

        assertProblem(missing, 404, "no event with id 987654321; no event was replayed");
        assertThat(replays()).isEqualTo(replaysBefore);
        assertThat(outboxRows(null)).isEqualTo(outboxTotal);

        HttpResponse<String> r =
                console.post("/api/v1/events/replay", OPERATOR, "{\"ids\": [" + push + ", " + charge + "]}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode body = Json.MAPPER.readTree(r.body());
        assertThat(body.get("replayed").asInt()).isEqualTo(2);
        assertThat(ids(body)).containsExactly(push, charge);
        assertThat(db.queryValue("select string_agg(status || ':' || replays, ',' order by id) from claude_events"
                        + " where id in (" + push + ", " + charge + ")"))
                .isEqualTo("received:1,received:1");
        assertThat(outboxRows(null)).isEqualTo(outboxTotal + 2);
    }

    @Test
    @Order(6)
    void aBadReplayBodyIsAProblemAndReplaysNothing() throws Exception {
        String replaysBefore = replays();
        assertProblem(console.post("/api/v1/events/replay", OPERATOR, "{not json"), 400, "the body is not JSON");
        assertProblem(console.post("/api/v1/events/replay", OPERATOR, "[1]"), 400, "must be a JSON object");
        assertProblem(console.post("/api/v1/events/replay", OPERATOR, null), 400, "a JSON body is required");
        assertThat(fieldError(console.post("/api/v1/events/replay", OPERATOR, "{}"), "ids"))
                .isEqualTo("must be an array of event ids");
        assertThat(fieldError(console.post("/api/v1/events/replay", OPERATOR, "{\"ids\": []}"), "ids"))
                .startsWith("must hold 1 to 500 ids");
        assertThat(fieldError(console.post("/api/v1/events/replay", OPERATOR, "{\"ids\": [\"1\"]}"), "ids"))
                .startsWith("must hold positive integers only");
        assertThat(fieldError(console.post("/api/v1/events/replay", OPERATOR, "{\"ids\": [0]}"), "ids"))
                .startsWith("must hold positive integers only");
        assertThat(fieldError(
                        console.post("/api/v1/events/replay", OPERATOR, "{\"ids\": [" + push + "], \"all\": true}"),
                        "all"))
                .isEqualTo("unknown field");
        assertThat(replays()).isEqualTo(replaysBefore);
    }

    @Test
    @Order(7)
    void aViewersReplayIsRefusedAndWritesNothingButTheRefusal() throws Exception {
        long audit = (long) db.queryValue("select count(*) from audit_log");
        long outboxTotal = outboxRows(null);
        String replaysBefore = replays();

        assertProblem(
                console.post("/api/v1/events/" + issue + "/replay", VIEWER, null), 403, "needs the role operator");
        assertProblem(
                console.post("/api/v1/events/replay", VIEWER, "{\"ids\": [" + issue + "]}"),
                403,
                "needs the role operator");

        assertThat(replays()).isEqualTo(replaysBefore);
        assertThat(outboxRows(null)).isEqualTo(outboxTotal);
        assertThat((long) db.queryValue("select count(*) from audit_log")).isEqualTo(audit + 2);
        assertThat(db.queryValue("select string_agg(who || ' ' || status, ',' order by id) from (select * from"
                        + " audit_log order by id desc limit 2) last"))
                .isEqualTo("vera 403,vera 403");
    }

    @Test
    @Order(8)
    void everyEventsRouteAnsweredEachStatusItDeclares() {
        console.assertEveryRouteAnswered("/events");
    }

    @Test
    @Order(9)
    void theOpenApiDocumentValidatesAndDescribesEveryEventsRoute() throws Exception {
        HttpResponse<String> r = console.get("/api/v1/openapi.json", null);
        assertThat(r.statusCode()).isEqualTo(200);
        var parsed = new io.swagger.parser.OpenAPIParser().readContents(r.body(), null, null);
        assertThat(parsed.getMessages()).isEmpty();
        assertThat(parsed.getOpenAPI().getPaths().keySet())
                .contains("/events", "/events/{id}", "/events/{id}/replay", "/events/replay");
    }

    private static long insert(String source, String delivery, String type, String payload) throws Exception {
        return (long) db.queryValue("insert into claude_events (source, delivery_id, event_type, payload) values ('"
                + source + "', '" + delivery + "', '" + type + "', '" + payload + "'::jsonb) returning id");
    }

    private static long outboxRows(String key) throws Exception {
        return (long) db.queryValue("select count(*) from outbox where topic = 'claude_events'"
                + (key == null ? "" : " and key = '" + key + "'"));
    }

    private static String replays() throws Exception {
        return (String) db.queryValue(
                "select string_agg(id || ':' || status || ':' || replays, ',' order by id)" + " from claude_events");
    }

    private static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.MAPPER.readTree(r.body());
    }

    private static List<Long> ids(JsonNode page) {
        List<Long> ids = new ArrayList<>();
        page.get("items").forEach(i -> ids.add(i.get("id").asLong()));
        return ids;
    }

    private static String fieldError(HttpResponse<String> r, String field) throws Exception {
        assertProblem(r, 422, "");
        return Json.MAPPER.readTree(r.body()).get("errors").get(field).asText();
    }

    static void assertProblem(HttpResponse<String> r, int status, String detail) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        JsonNode body = Json.MAPPER.readTree(r.body());
        assertThat(body.get("status").asInt()).isEqualTo(status);
        assertThat(body.get("detail").asText()).contains(detail);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
