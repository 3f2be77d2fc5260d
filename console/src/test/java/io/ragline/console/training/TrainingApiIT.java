package io.ragline.console.training;

import static io.ragline.console.ConsoleTestServer.ADMIN;
import static io.ragline.console.ConsoleTestServer.OPERATOR;
import static io.ragline.console.ConsoleTestServer.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.console.ConsoleTestServer;
import io.ragline.console.api.Json;
import io.ragline.core.config.Env;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.testkit.PostgresSchema;
import io.ragline.training.TrainingWorker;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /api/v1/training} on a real console, Postgres and Kafka, with the event-dispatcher and a
 * training-worker in the same JVM: a requested job goes through the outbox and the {@code training}
 * topic and really trains; jobs, metrics and the model are read back; cancel, deploy, rollback and
 * schedules change what they say and nothing else; roles and every error status are checked.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrainingApiIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static ConsoleTestServer console;

    @BeforeAll
    static void start() throws Exception {
        String prefix = "trapi" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_GROUP_PREFIX", prefix + "ragline");
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_OUTBOX_POLL_INTERVAL", "200ms");
        env.put("RAGLINE_TRAINING_HEARTBEAT", "500ms");
        env.put("RAGLINE_TRAINING_STALE_AFTER", "5s");
        env.put("RAGLINE_TRAINING_SCHEDULER", "off");
        env.put("RAGLINE_TRAINING_PREDICT", "false");
        Env e = new Env(env);
        var dispatcher = EventDispatcher.wiring(e);
        var training = TrainingWorker.wiring(e);
        e.validate();
        console = ConsoleTestServer.start(env, (runtime, routes) -> {
            dispatcher.accept(runtime);
            training.accept(runtime);
            new TrainingApi().register(routes);
        });
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into collections (name) values ('blobs')");
            s.execute("insert into documents (collection_id, external_id, metadata, version, status)"
                    + " select (select id from collections where name = 'blobs'), 'd' || i,"
                    + " jsonb_build_object('kind', case when i % 2 = 0 then 'even' else 'odd' end), 1, 'embedded'"
                    + " from generate_series(1, 60) i");
            s.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select d.id, d.collection_id, 1, 0, 'x', 1 from documents d"
                    + " join collections c on c.id = d.collection_id where c.name = 'blobs'");
            s.execute("insert into chunk_embeddings (chunk_id, collection_id, embedding, model)"
                    + " select ch.id, ch.collection_id, (select array_agg(random() + case when"
                    + " d.metadata->>'kind' = 'even' and j <= 192 then 1 else 0 end)::vector from"
                    + " generate_series(1, 384) j), 'test' from chunks ch join documents d on d.id = ch.document_id"
                    + " join collections c on c.id = d.collection_id where c.name = 'blobs'");
        }
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    private static String request(String project, String extra) {
        return "{\"project\":\"" + project + "\",\"task\":\"classification\",\"backend\":\"builtin\","
                + "\"data\":{\"collection\":\"blobs\",\"label_path\":\"kind\"}" + extra + "}";
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return Json.MAPPER.readTree(r.body());
    }

    private static JsonNode ok(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        return r.body().isEmpty() ? null : json(r);
    }

    private static void problem(HttpResponse<String> r, int status, String detail) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        assertThat(json(r).get("detail").asText()).contains(detail);
    }

    private static Object value(String sql) throws Exception {
        return db.queryValue(sql);
    }

    private static JsonNode jobOf(String requestId) throws Exception {
        JsonNode page = ok(
                console.get(
                        "/api/v1/training/jobs?request_id=" + URLEncoder.encode(requestId, StandardCharsets.UTF_8),
                        VIEWER),
                200);
        return page.get("items").isEmpty() ? null : page.get("items").get(0);
    }

    @Test
    @Order(1)
    void aViewersOrOperatorsPostBeyondTheirRoleIsRefusedAndWritesNothing() throws Exception {
        long audit = (long) value("select count(*) from audit_log");
        problem(console.post("/api/v1/training/jobs", VIEWER, request("v", "")), 403, "needs the role operator");
        problem(console.post("/api/v1/training/jobs/1/cancel", VIEWER, null), 403, "needs the role operator");
        problem(console.post("/api/v1/training/models/1/deploy", OPERATOR, null), 403, "needs the role admin");
        problem(console.post("/api/v1/training/projects/p/rollback", OPERATOR, null), 403, "needs the role admin");
        problem(console.post("/api/v1/training/schedules", OPERATOR, "{\"name\":\"s\"}"), 403, "needs the role admin");
        problem(console.delete("/api/v1/training/schedules/s", VIEWER), 403, "needs the role admin");
        assertThat(value("select count(*) from outbox where topic = 'training'"))
                .isEqualTo(0L);
        assertThat(value("select count(*) from training_schedules")).isEqualTo(0L);
        assertThat(value("select count(*) from audit_log")).isEqualTo(audit + 6);
        assertThat(value("select count(*) from audit_log where status = 403 and outcome is not null"))
                .isEqualTo(audit + 6);
    }

    @Test
    @Order(2)
    void aRequestedJobGoesThroughKafkaTrainsAndShowsItsMetricsAndModel() throws Exception {
        JsonNode accepted = ok(console.post("/api/v1/training/jobs", OPERATOR, request("blobs", "")), 202);
        String requestId = accepted.get("request_id").asText();
        assertThat(requestId).startsWith(TrainingApi.REQUEST_ID_PREFIX);
        assertThat(accepted.get("topic").asText()).isEqualTo("training");

        await().atMost(Duration.ofMinutes(1)).until(() -> {
            JsonNode job = jobOf(requestId);
            return job != null && job.get("status").asText().equals("succeeded");
        });
        JsonNode job = jobOf(requestId);
        assertThat(job.get("project").asText()).isEqualTo("blobs");
        assertThat(job.get("accuracy").asDouble()).isGreaterThan(0.8);
        assertThat(job.get("requested_at").asText()).endsWith("Z");

        JsonNode detail =
                ok(console.get("/api/v1/training/jobs/" + job.get("id").asLong(), VIEWER), 200);
        assertThat(detail.get("metrics").findValuesAsText("name")).contains("accuracy", "macro_f1");
        assertThat(detail.get("model").get("deployed").asBoolean()).isTrue();
        assertThat(detail.get("model").get("artifact_bytes").asInt()).isPositive();
        assertThat(detail.get("data").get("collection").asText()).isEqualTo("blobs");
        assertThat(value("select outcome from audit_log where action = 'POST /training/jobs' and status = 202"))
                .isEqualTo("requested " + requestId);
    }

    @Test
    @Order(3)
    void aBadRequestIs422FieldByFieldAKnownRequestIdIs409AndNeitherReachesTheOutbox() throws Exception {
        long outbox = (long) value("select count(*) from outbox where topic = 'training'");
        HttpResponse<String> invalid = console.post(
                "/api/v1/training/jobs",
                OPERATOR,
                "{\"project\":\"p\",\"backend\":\"nope\",\"task\":\"classification\",\"test_size\":3,\"x\":1}");
        problem(invalid, 422, "not a valid training request");
        assertThat(json(invalid).get("errors").fieldNames()).toIterable().contains("backend", "test_size", "x", "data");
        String taken = jobOf(value("select request_id from training_jobs order by id limit 1")
                        .toString())
                .get("request_id")
                .asText();
        problem(
                console.post("/api/v1/training/jobs", OPERATOR, request("blobs", ",\"request_id\":\"" + taken + "\"")),
                409,
                "is already job");
        problem(console.post("/api/v1/training/jobs", OPERATOR, "{\"project\":"), 400, "not JSON");
        assertThat(value("select count(*) from outbox where topic = 'training'"))
                .isEqualTo(outbox);
    }

    @Test
    @Order(4)
    void listsArePagedFilteredAndBounded() throws Exception {
        ok(console.post("/api/v1/training/jobs", OPERATOR, request("blobs", ",\"request_id\":\"second\"")), 202);
        await().atMost(Duration.ofMinutes(1)).until(() -> jobOf("second") != null);
        JsonNode first = ok(console.get("/api/v1/training/jobs?limit=1", VIEWER), 200);
        assertThat(first.get("items")).hasSize(1);
        assertThat(first.get("items").get(0).get("request_id").asText()).isEqualTo("second");
        JsonNode next = ok(
                console.get(
                        "/api/v1/training/jobs?limit=1&after="
                                + first.get("next").asText(),
                        VIEWER),
                200);
        assertThat(next.get("items").get(0).get("request_id").asText()).startsWith(TrainingApi.REQUEST_ID_PREFIX);
        assertThat(ok(console.get("/api/v1/training/jobs?project=none", VIEWER), 200)
                        .get("items"))
                .isEmpty();
        assertThat(ok(console.get("/api/v1/training/jobs?status=succeeded", VIEWER), 200)
                        .get("items"))
                .isNotEmpty();
        problem(console.get("/api/v1/training/jobs?status=done", VIEWER), 400, "status");
        problem(console.get("/api/v1/training/jobs?limit=501", VIEWER), 400, "limit");
        problem(console.get("/api/v1/training/jobs/987654", VIEWER), 404, "no training job 987654");
        problem(console.get("/api/v1/training/jobs/abc", VIEWER), 404, "not an id");
    }

    @Test
    @Order(5)
    void aRunningJobIsCancelledAFinishedOneIs409AndAnUnknownOne404() throws Exception {
        ok(
                console.post(
                        "/api/v1/training/jobs",
                        OPERATOR,
                        request(
                                "slow",
                                ",\"request_id\":\"slow-1\",\"hyperparameters\":"
                                        + "{\"epochs\":100000,\"epoch_pause_ms\":20}")),
                202);
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            JsonNode job = jobOf("slow-1");
            return job != null && job.get("status").asText().equals("running");
        });
        long id = jobOf("slow-1").get("id").asLong();
        JsonNode asked = ok(console.post("/api/v1/training/jobs/" + id + "/cancel", OPERATOR, null), 200);
        assertThat(asked.get("cancel_requested").asBoolean()).isTrue();
        await().atMost(Duration.ofSeconds(30))
                .until(() -> jobOf("slow-1").get("status").asText().equals("cancelled"));

        problem(console.post("/api/v1/training/jobs/" + id + "/cancel", OPERATOR, null), 409, "already cancelled");
        long succeeded = (long) value("select id from training_jobs where status = 'succeeded' limit 1");
        problem(
                console.post("/api/v1/training/jobs/" + succeeded + "/cancel", OPERATOR, null),
                409,
                "already succeeded");
        assertThat(value("select status from training_jobs where id = " + succeeded))
                .isEqualTo("succeeded");
        problem(console.post("/api/v1/training/jobs/987654/cancel", OPERATOR, null), 404, "no training job");
    }

    @Test
    @Order(6)
    void modelsAreDeployedAndRolledBackOneDeploymentAtATime() throws Exception {
        long a = (long) value("select id from models where project = 'blobs' and deployed");
        long b = (long) value("insert into models (project, backend, algorithm) values ('blobs', 'builtin',"
                + " 'softmax_regression') returning id");
        JsonNode deployed = ok(console.post("/api/v1/training/models/" + b + "/deploy", ADMIN, null), 200);
        assertThat(deployed.get("model_id").asLong()).isEqualTo(b);
        assertThat(deployed.get("undeployed_model_id").asLong()).isEqualTo(a);

        JsonNode back = ok(console.post("/api/v1/training/projects/blobs/rollback", ADMIN, null), 200);
        assertThat(back.get("model_id").asLong()).isEqualTo(a);
        assertThat(value("select deployed from models where id = " + b)).isEqualTo(false);
        problem(console.post("/api/v1/training/projects/blobs/rollback", ADMIN, null), 409, "no model deployed before");
        assertThat(value("select id from models where project = 'blobs' and deployed"))
                .isEqualTo(a);

        long pgml = (long) value("insert into models (project, backend) values ('pg project', 'pgml') returning id");
        HttpResponse<String> refused = console.post("/api/v1/training/models/" + pgml + "/deploy", ADMIN, null);
        problem(refused, 422, "PostgresML deploys its models itself");
        assertThat(json(refused).get("errors").has("backend")).isTrue();
        problem(console.post("/api/v1/training/projects/pg%20project/rollback", ADMIN, null), 422, "pgml model");
        problem(console.post("/api/v1/training/models/987654/deploy", ADMIN, null), 404, "no model 987654");
        problem(console.post("/api/v1/training/projects/nobody/rollback", ADMIN, null), 404, "has no model");
        assertThat(value("select count(*) from models where deployed")).isEqualTo(1L);
    }

    @Test
    @Order(7)
    void schedulesAreAddedListedAndRemovedByAnAdmin() throws Exception {
        String body = "{\"name\":\"nightly\",\"every\":\"24h\",\"request\":" + request("blobs", "") + "}";
        JsonNode added = ok(console.post("/api/v1/training/schedules", ADMIN, body), 201);
        assertThat(added.get("every_seconds").asLong()).isEqualTo(86_400);
        assertThat(added.get("every").asText()).isEqualTo("24h");
        problem(console.post("/api/v1/training/schedules", ADMIN, body), 409, "exists");
        HttpResponse<String> invalid = console.post(
                "/api/v1/training/schedules",
                ADMIN,
                "{\"name\":\"x\",\"every\":\"10s\",\"request\":{\"project\":\"p\"},\"min_new_labelled\":\"many\"}");
        problem(invalid, 422, "not a valid training schedule");
        assertThat(json(invalid).get("errors").has("min_new_labelled")).isTrue();
        HttpResponse<String> rules = console.post(
                "/api/v1/training/schedules",
                ADMIN,
                "{\"name\":\"x\",\"every\":\"10s\",\"request\":{\"project\":\"p\"}}");
        assertThat(json(rules).get("errors").fieldNames()).toIterable().contains("every", "request");

        JsonNode list = ok(console.get("/api/v1/training/schedules", VIEWER), 200);
        assertThat(list.get("items").findValuesAsText("name")).containsExactly("nightly");
        assertThat(list.get("runner").asText()).isEqualTo("training-worker");
        assertThat(list.get("next").isNull()).isTrue();

        ok(console.delete("/api/v1/training/schedules/nightly", ADMIN), 204);
        problem(console.delete("/api/v1/training/schedules/nightly", ADMIN), 404, "no training schedule");
        assertThat(value("select count(*) from training_schedules")).isEqualTo(0L);
    }

    @Test
    @Order(8)
    void everyTrainingRouteAnsweredEachStatusItDeclaresAndTheOpenApiDocumentValidates() throws Exception {
        console.assertEveryRouteAnswered("/training");
        var parsed = new io.swagger.parser.OpenAPIParser()
                .readContents(console.get("/api/v1/openapi.json", null).body(), null, null);
        assertThat(parsed.getMessages()).isEmpty();
        assertThat(parsed.getOpenAPI().getPaths())
                .containsKeys(
                        "/training/jobs",
                        "/training/jobs/{id}",
                        "/training/jobs/{id}/cancel",
                        "/training/models/{id}/deploy",
                        "/training/projects/{project}/rollback",
                        "/training/schedules",
                        "/training/schedules/{name}");
    }
}
