package io.ragline.console;

import static io.ragline.console.ConsoleTestServer.ADMIN;
import static io.ragline.console.ConsoleTestServer.OPERATOR;
import static io.ragline.console.ConsoleTestServer.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.ApiProblem;
import io.ragline.console.api.ApiResponse;
import io.ragline.console.api.Json;
import io.ragline.console.api.Page;
import io.ragline.console.api.Schemas;
import io.ragline.core.http.ApiTokens.Role;
import io.ragline.testkit.PostgresSchema;
import io.swagger.parser.OpenAPIParser;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The API's framework on a real console server and Postgres: roles, the audit log written before
 * an action and finished after, RFC 9457 problems for every client error (never a 500), bounded
 * pages, the public OpenAPI document (valid, generated from the routes) and Swagger UI.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiFrameworkIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final AtomicInteger ran = new AtomicInteger();
    static ConsoleTestServer console;

    @BeforeAll
    static void start() {
        console = ConsoleTestServer.start(db.env(), (runtime, routes) -> {
            routes.post("/things", Role.OPERATOR, "Do a thing", request -> {
                        ran.incrementAndGet();
                        try (Connection c = request.database().getConnection();
                                Statement s = c.createStatement();
                                ResultSet rs = s.executeQuery("select count(*) from audit_log where action ="
                                        + " 'POST /things' and status is null")) {
                            rs.next();
                            ObjectNode body = Json.object().put("open_audit_rows", rs.getLong(1));
                            if (request.hasBody()) {
                                body.set("echo", request.object());
                            }
                            return ApiResponse.ok(body).withOutcome("did the thing");
                        }
                    })
                    .describe(r -> r.body(Schemas.anyObject()).answers(200, "done", Schemas.anyObject()));
            routes.post("/things/invalid", Role.OPERATOR, "Break a rule", request -> {
                        throw ApiProblem.unprocessable("the thing is not valid", Map.of("size", "must be positive"));
                    })
                    .describe(r -> r.fails(422, "always"));
            routes.post("/things/duplicate", Role.OPERATOR, "Insert a key twice", request -> {
                        try (Connection c = request.database().getConnection();
                                Statement s = c.createStatement()) {
                            s.execute("create temporary table if not exists once (k int primary key)");
                            s.execute("insert into once values (1)");
                            s.execute("insert into once values (1)");
                        }
                        return ApiResponse.noContent();
                    })
                    .describe(r -> r.fails(409, "always"));
            routes.post("/things/broken", Role.OPERATOR, "Fail inside", request -> {
                        throw new IllegalStateException("internal state 42 inside a bug");
                    })
                    .describe(r -> r.fails(500, "always"));
            routes.delete("/things/{id}", Role.ADMIN, "Remove a thing", request -> {
                        request.pathId("id");
                        return ApiResponse.noContent();
                    })
                    .describe(r -> r.answers(204, "removed", null).fails(404, "an id that is not a number"));
            routes.get("/things", Role.VIEWER, "List things", request -> {
                        Page.Request page = request.page();
                        long after = page.afterId().orElse(0L);
                        List<ObjectNode> rows = new ArrayList<>();
                        for (long i = after + 1; i <= 5 && rows.size() < page.fetchSize(); i++) {
                            rows.add(Json.object().put("id", i));
                        }
                        return ApiResponse.ok(
                                Page.of(page, rows, row -> row.get("id").asText()));
                    })
                    .describe(r -> r.paged().answers(200, "a page", Schemas.page(Schemas.anyObject())));
        });
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    @Test
    @Order(1)
    void aViewersPostIsRefusedWithoutRunningAndOnlyTheRefusalIsAudited() throws Exception {
        long before = auditRows();

        HttpResponse<String> r = console.post("/api/v1/things", VIEWER, "{}");

        assertProblem(r, 403, "needs the role operator; this token is a viewer");
        assertThat(ran).hasValue(0);
        assertThat(auditRows()).isEqualTo(before + 1);
        assertThat(db.queryValue("select who || ' ' || role || ' ' || action || ' ' || target || ' ' || status"
                        + " from audit_log order by id desc limit 1"))
                .isEqualTo("vera viewer POST /things /api/v1/things 403");
    }

    @Test
    @Order(2)
    void anOperatorsActionRunsWithItsAuditRowAlreadyWrittenAndItsOutcomeAfter() throws Exception {
        HttpResponse<String> r = console.post("/api/v1/things", OPERATOR, "{\"size\": 3}");

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = Json.MAPPER.readTree(r.body());
        assertThat(body.get("open_audit_rows").asLong())
                .as("its own row, written before it ran")
                .isEqualTo(1);
        assertThat(body.get("echo").get("size").asInt()).isEqualTo(3);
        assertThat(db.queryValue("select who || ' ' || status || ' ' || outcome || ' ' || (finished_at is not null)"
                        + " from audit_log order by id desc limit 1"))
                .isEqualTo("otto 200 did the thing true");
        assertThat(console.post("/api/v1/things", ADMIN, null).statusCode())
                .as("an admin may do what an operator may")
                .isEqualTo(200);
    }

    @Test
    @Order(3)
    void everyClientErrorIsAProblemWithItsStatusAndIsAudited() throws Exception {
        assertProblem(console.post("/api/v1/things", OPERATOR, "{not json"), 400, "the body is not JSON");
        assertProblem(console.post("/api/v1/things", OPERATOR, "[1]"), 400, "must be a JSON object");
        HttpResponse<String> invalid = console.post("/api/v1/things/invalid", OPERATOR, "{}");
        assertProblem(invalid, 422, "the thing is not valid");
        assertThat(Json.MAPPER
                        .readTree(invalid.body())
                        .get("errors")
                        .get("size")
                        .asText())
                .isEqualTo("must be positive");
        assertProblem(console.post("/api/v1/things/duplicate", OPERATOR, null), 409, "duplicate key");
        assertProblem(console.delete("/api/v1/things/abc", ADMIN), 404, "is not an id that exists");
        assertThat(console.delete("/api/v1/things/7", ADMIN).statusCode()).isEqualTo(204);
        assertProblem(console.get("/api/v1/nothing/here", VIEWER), 404, "no such endpoint");
        HttpResponse<String> wrongMethod = console.send("PUT", "/api/v1/things", OPERATOR, "{}");
        assertProblem(wrongMethod, 405, "PUT is not allowed here");
        assertThat(wrongMethod.headers().firstValue("Allow")).contains("POST, GET, HEAD");
        assertThat(db.queryValue("select string_agg(status::text, ',' order by id) from (select id, status from"
                        + " audit_log where who = 'otto' order by id desc limit 4) last"))
                .isEqualTo("400,400,422,409");
    }

    @Test
    @Order(4)
    void aBodyTooLargeOrNotJsonIsRefusedBeforeTheHandlerRuns() throws Exception {
        int before = ran.get();
        String big = "{\"x\": \"" + "a".repeat(1 << 20) + "\"}";
        assertProblem(console.post("/api/v1/things", OPERATOR, big), 413, "over 1048576 bytes");
        HttpResponse<String> text =
                console.send("POST", "/api/v1/things?x=1", OPERATOR, null); // no body at all is fine for this route
        assertThat(text.statusCode()).isEqualTo(200);
        var request = java.net.http.HttpRequest.newBuilder(console.uri("/api/v1/things"))
                .header("Authorization", "Bearer " + OPERATOR)
                .header("Content-Type", "text/plain")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("hello"))
                .build();
        HttpResponse<String> plain =
                java.net.http.HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        assertProblem(plain, 415, "must be application/json");
        assertThat(ran.get()).isEqualTo(before + 1);
    }

    @Test
    @Order(5)
    void anUnexpectedFailureIsA500ThatSaysNothingOfItsCause() throws Exception {
        HttpResponse<String> r = console.post("/api/v1/things/broken", OPERATOR, null);

        assertProblem(r, 500, "the request failed inside the console");
        assertThat(r.body()).doesNotContain("internal state 42").doesNotContain("IllegalState");
        assertThat(db.queryValue("select outcome from audit_log order by id desc limit 1"))
                .asString()
                .doesNotContain("internal state 42");
    }

    @Test
    @Order(6)
    void pagesAreBoundedAndFollowTheirCursor() throws Exception {
        JsonNode first = Json.MAPPER.readTree(
                console.get("/api/v1/things?limit=2", VIEWER).body());
        assertThat(first.get("items").findValuesAsText("id")).containsExactly("1", "2");
        JsonNode second = Json.MAPPER.readTree(
                console.get("/api/v1/things?limit=2&after=" + first.get("next").asText(), VIEWER)
                        .body());
        assertThat(second.get("items").findValuesAsText("id")).containsExactly("3", "4");
        JsonNode last = Json.MAPPER.readTree(
                console.get("/api/v1/things?limit=2&after=" + second.get("next").asText(), VIEWER)
                        .body());
        assertThat(last.get("items").findValuesAsText("id")).containsExactly("5");
        assertThat(last.get("next").isNull()).isTrue();

        assertProblem(console.get("/api/v1/things?limit=0", VIEWER), 400, "limit: must be 1 to 500");
        assertProblem(console.get("/api/v1/things?limit=501", VIEWER), 400, "limit: must be 1 to 500");
        assertProblem(console.get("/api/v1/things?limit=ten", VIEWER), 400, "not a whole number");
        assertProblem(console.get("/api/v1/things?after=bm90LWFuLWlk", VIEWER), 400, "not a cursor");
        assertProblem(console.get("/api/v1/things?limit=1&limit=2", VIEWER), 400, "given twice");
    }

    @Test
    @Order(7)
    void withoutAValidTokenNothingIsServedAndNothingIsAudited() throws Exception {
        long before = auditRows();
        int handled = ran.get();
        assertThat(console.get("/api/v1/audit", null).statusCode()).isEqualTo(401);
        assertThat(console.post("/api/v1/things", "not-a-token-of-this-console", "{}")
                        .statusCode())
                .isEqualTo(401);
        assertThat(auditRows()).isEqualTo(before);
        assertThat(ran).hasValue(handled);
    }

    @Test
    @Order(8)
    void theAuditLogListsEveryCallNewestFirstAndFiltersByWho() throws Exception {
        JsonNode page = Json.MAPPER.readTree(
                console.get("/api/v1/audit?who=vera", VIEWER).body());
        assertThat(page.get("items")).hasSize(1);
        JsonNode refusal = page.get("items").get(0);
        assertThat(refusal.get("action").asText()).isEqualTo("POST /things");
        assertThat(refusal.get("status").asInt()).isEqualTo(403);
        JsonNode all = Json.MAPPER.readTree(
                console.get("/api/v1/audit?limit=3", VIEWER).body());
        assertThat(all.get("items")).hasSize(3);
        assertThat(all.get("items").get(0).get("id").asLong())
                .isGreaterThan(all.get("items").get(1).get("id").asLong());
        JsonNode rest = Json.MAPPER.readTree(
                console.get("/api/v1/audit?limit=500&after=" + all.get("next").asText(), VIEWER)
                        .body());
        assertThat(rest.get("items").size() + 3).isEqualTo(auditRows());
        assertProblem(console.get("/api/v1/audit?limit=0", VIEWER), 400, "limit");
    }

    @Test
    @Order(9)
    void theOpenApiDocumentIsPublicValidAndListsEveryRoute() throws Exception {
        HttpResponse<String> r = console.get("/api/v1/openapi.json", null);
        assertThat(r.statusCode()).isEqualTo(200);

        SwaggerParseResult parsed = new OpenAPIParser().readContents(r.body(), null, null);
        assertThat(parsed.getMessages()).isEmpty();
        assertThat(parsed.getOpenAPI().getOpenapi()).isEqualTo("3.1.0");
        List<String> documented = new ArrayList<>();
        parsed.getOpenAPI()
                .getPaths()
                .forEach((path, item) ->
                        item.readOperationsMap().forEach((method, op) -> documented.add(method + " " + path)));
        assertThat(documented)
                .containsExactlyInAnyOrderElementsOf(console.routes().routes().stream()
                        .map(route -> route.name())
                        .toList());
        assertThat(parsed.getOpenAPI().getPaths().get("/things").getPost().getResponses())
                .containsKeys("200", "400", "401", "403", "413", "415");
        assertThat(console.get("/api/v1/openapi.jsonx", null).statusCode()).isEqualTo(404);
    }

    @Test
    @Order(10)
    void swaggerUiIsServedFromTheJarWithoutAToken() throws Exception {
        HttpResponse<String> page = console.get("/api/v1/docs/", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body())
                .contains("swagger-ui-bundle.js")
                .doesNotContain("http://")
                .doesNotContain("https://");
        assertThat(console.get("/api/v1/docs/swagger-ui-bundle.js", null).statusCode())
                .isEqualTo(200);
        assertThat(console.get("/api/v1/docs/ragline-initializer.js", null).body())
                .contains("../openapi.json");
        // io/ragline/core/db/grants.sql is on the class path: a name that climbed out of the docs folder would find it.
        HttpResponse<String> climbing = console.get("/api/v1/docs/../../core/db/grants.sql", null);
        assertThat(climbing.statusCode()).isEqualTo(404);
        assertThat(climbing.body()).doesNotContain("GRANT");
        assertThat(console.get("/api/v1/docs/%2e%2e/%2e%2e/core/db/grants.sql", null)
                        .body())
                .doesNotContain("GRANT");
        HttpResponse<String> bare = console.get("/api/v1/docs", null);
        assertThat(bare.statusCode()).isEqualTo(308);
        assertThat(bare.headers().firstValue("Location")).contains("/api/v1/docs/");
        assertThat(page.headers().firstValue("Content-Security-Policy"))
                .hasValueSatisfying(csp -> assertThat(csp).contains("script-src 'self'"));
        HttpResponse<String> post = console.post("/api/v1/openapi.json", null, "{}");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Content-Type")).contains("application/problem+json");
    }

    @Test
    @Order(11)
    void aBrowsersRequestFromAnotherSiteChangesNothingAndSameOriginWorks() throws Exception {
        int before = ran.get();
        long rows = auditRows();

        assertProblem(
                console.send("POST", "/api/v1/things", OPERATOR, "{}", Map.of("Origin", "http://evil.example")),
                403,
                "another site");
        assertProblem(
                console.send("POST", "/api/v1/things", OPERATOR, "{}", Map.of("Sec-Fetch-Site", "cross-site")),
                403,
                "another site");
        assertProblem(console.send("POST", "/api/v1/things", OPERATOR, "{}", Map.of("Origin", "null")), 403, "another");
        assertThat(ran).hasValue(before);
        assertThat(auditRows()).isEqualTo(rows);

        String self = "http://127.0.0.1:" + console.uri("/").getPort();
        assertThat(console.send(
                                "POST",
                                "/api/v1/things",
                                OPERATOR,
                                "{}",
                                Map.of("Origin", self, "Sec-Fetch-Site", "same-origin"))
                        .statusCode())
                .isEqualTo(200);
        assertThat(console.get("/api/v1/things", VIEWER).statusCode())
                .as("reads are not refused for their origin")
                .isEqualTo(200);
    }

    @Test
    @Order(12)
    void aMediaTypeThatOnlyMentionsJsonAnEncodedSlashAndHeadAreEachAnsweredAsTheyShouldBe() throws Exception {
        var request = java.net.http.HttpRequest.newBuilder(console.uri("/api/v1/things"))
                .header("Authorization", "Bearer " + OPERATOR)
                .header("Content-Type", "text/plain;charset=json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}"))
                .build();
        assertProblem(
                java.net.http.HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()),
                415,
                "must be application/json");
        assertProblem(console.delete("/api/v1/things/1%2F2", ADMIN), 404, "no such endpoint");
        assertProblem(console.delete("/api/v1/things/1%0A2", ADMIN), 404, "no such endpoint");

        HttpResponse<String> head = console.send("HEAD", "/api/v1/things", VIEWER, null);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(console.send("PUT", "/api/v1/things", VIEWER, null).headers().firstValue("Allow"))
                .contains("POST, GET, HEAD");
    }

    @Test
    @Order(13)
    void theAuditLogIsAppendOnlyForTheConsolesLoginAndKeepsAtMostAShortTarget() throws Exception {
        String longPath = "/api/v1/things/" + "9".repeat(2000);
        assertThat(console.delete(longPath, ADMIN).statusCode()).isEqualTo(404);
        assertThat((Integer) db.queryValue("select length(target) from audit_log order by id desc limit 1"))
                .isLessThanOrEqualTo(515);

        long finished = (long) db.queryValue("select max(id) from audit_log where status is not null");
        try (Connection c = console.runtime().dataSource().getConnection();
                Statement s = c.createStatement()) {
            assertThat(sqlState(s, "update audit_log set who = 'mallory' where id = " + finished))
                    .as("who cannot be rewritten")
                    .isEqualTo("42501");
            assertThat(sqlState(s, "update audit_log set status = 200 where id = " + finished))
                    .as("a finished row's outcome cannot be rewritten")
                    .isEqualTo("42501");
            assertThat(sqlState(s, "delete from audit_log where id = " + finished))
                    .isEqualTo("42501");
        }
        assertThatThrownBy(() -> console.routes().get("/late", Role.VIEWER, "Too late", r -> ApiResponse.noContent()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("comes too late");
    }

    private static String sqlState(Statement s, String sql) {
        try {
            s.executeUpdate(sql);
            return "no error";
        } catch (java.sql.SQLException e) {
            return e.getSQLState();
        }
    }

    @Test
    @Order(20)
    void everyRouteOfThisTestAnsweredEachStatusItDeclares() {
        console.assertEveryRouteAnswered("/things");
        console.assertEveryRouteAnswered("/audit");
    }

    private static void assertProblem(HttpResponse<String> r, int status, String detail) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        JsonNode problem = Json.MAPPER.readTree(r.body());
        assertThat(problem.get("status").asInt()).isEqualTo(status);
        assertThat(problem.get("title").asText()).isNotBlank();
        assertThat(problem.get("type").asText()).startsWith("https://ragline.io/problems/");
        assertThat(problem.get("detail").asText()).contains(detail);
    }

    private static long auditRows() throws Exception {
        return (long) db.queryValue("select count(*) from audit_log");
    }
}
