package io.ragline.console.training;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.ApiProblem;
import io.ragline.console.api.ApiRequest;
import io.ragline.console.api.ApiResponse;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Json;
import io.ragline.console.api.Page;
import io.ragline.console.api.Quote;
import io.ragline.console.api.Schemas;
import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.status.TrainingJobStatus;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.contracts.training.TrainingRequestCodec;
import io.ragline.core.http.ApiTokens.Role;
import io.ragline.training.job.TrainingJobs;
import io.ragline.training.model.ModelDeployments;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * {@code /api/v1/training}: requesting training (the seed's {@code schedule_training}: the request
 * goes to the outbox and so to the {@code training} topic, as any producer's, where a
 * training-worker admits and runs it), the jobs with their metrics and model, cancelling one,
 * deploying a model and rolling a project back, and the schedules ({@link ScheduleRoutes}). The
 * logic lives with the training-worker ({@link TrainingJobs}, {@link ModelDeployments}); this class
 * reads the request and writes the answer.
 */
public final class TrainingApi {
    private static final TrainingRequestCodec CODEC = new TrainingRequestCodec();

    /** What a request without a request_id gets: {@code console:<uuid>}. */
    static final String REQUEST_ID_PREFIX = "console:";

    public void register(ApiRoutes routes) {
        routes.post("/training/jobs", Role.OPERATOR, "Request training (a training topic request)", this::request)
                .describe(r -> r.tag("training")
                        .description("The body is a `training` topic request (README, message formats); without"
                                + " `request_id` one is made (`console:<uuid>`). It is written to the outbox and"
                                + " published to `training` like any producer's; a training-worker admits it as a"
                                + " job, whose id `GET /training/jobs?request_id=` finds.")
                        .body(Schemas.anyObject())
                        .answers(
                                202,
                                "requested",
                                Schemas.object(
                                        "request_id", Schemas.string(),
                                        "project", Schemas.string(),
                                        "topic", Schemas.string()))
                        .fails(409, "the request_id names a job already")
                        .fails(422, "the request breaks the training contract; errors names each field"));
        routes.get("/training/jobs", Role.VIEWER, "Training jobs, newest first", this::list)
                .describe(r -> r.tag("training")
                        .query("project", "only this project's jobs", Schemas.string())
                        .query(
                                "status",
                                "only jobs in this status",
                                Schemas.enumeration("queued", "running", "succeeded", "failed", "cancelled"))
                        .query("request_id", "only the job of this request", Schemas.string())
                        .paged()
                        .answers(200, "a page of jobs", Schemas.page(TrainingViews.JOB)));
        routes.get("/training/jobs/{id}", Role.VIEWER, "One job with its metrics and model", this::one)
                .describe(r -> r.tag("training")
                        .answers(200, "the job", TrainingViews.JOB_DETAIL)
                        .fails(404, "no such job"));
        routes.post("/training/jobs/{id}/cancel", Role.OPERATOR, "Cancel a queued or running job", this::cancel)
                .describe(r -> r.tag("training")
                        .description("A queued job is cancelled at once; a running one is asked to stop and its"
                                + " worker marks it cancelled at its next heartbeat (`cancel_requested` is true"
                                + " meanwhile).")
                        .answers(200, "cancelled, or asked to stop", TrainingViews.JOB_DETAIL)
                        .fails(404, "no such job")
                        .fails(409, "the job has finished"));
        routes.post("/training/models/{id}/deploy", Role.ADMIN, "Deploy a builtin model", this::deploy)
                .describe(r -> r.tag("training")
                        .description("The model becomes its project's deployed model (the one before is"
                                + " undeployed); the training-worker labels documents embedded from now on with"
                                + " it. Deploying the deployed model changes nothing.")
                        .answers(200, "deployed", TrainingViews.DEPLOYMENT)
                        .fails(404, "no such model")
                        .fails(422, "a pgml model: PostgresML deploys its own"));
        routes.post(
                        "/training/projects/{project}/rollback",
                        Role.ADMIN,
                        "Deploy the project's model before the deployed one",
                        this::rollback)
                .describe(r -> r.tag("training")
                        .description("Undeploys the project's model (marked rolled back) and deploys the"
                                + " latest-deployed of its other models not rolled back: rolling back again goes"
                                + " one deployment further back.")
                        .answers(200, "rolled back", TrainingViews.DEPLOYMENT)
                        .fails(404, "the project has no model")
                        .fails(409, "nothing deployed, or no model deployed before it")
                        .fails(422, "a pgml project: PostgresML deploys its own"));
        new ScheduleRoutes().register(routes);
    }

    private ApiResponse request(ApiRequest req) throws SQLException {
        ObjectNode body = req.object().deepCopy();
        if (!body.hasNonNull("request_id")) {
            body.put("request_id", REQUEST_ID_PREFIX + UUID.randomUUID());
        }
        List<String> problems = new ArrayList<>();
        TrainingRequest request = TrainingRequestCodec.decode(body, problems, null);
        if (problems.isEmpty()) {
            try { // the codec's own checks of the whole message (its size), as a consumer decodes it
                CODEC.decode(request.project(), CODEC.encode(request).getBytes(StandardCharsets.UTF_8));
            } catch (InvalidMessageException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            Map<String, String> fields = new LinkedHashMap<>();
            problems.forEach(p -> TrainingViews.addProblem(fields, p));
            throw ApiProblem.unprocessable("not a valid training request: " + String.join("; ", problems), fields);
        }
        try (Connection c = req.database().getConnection()) {
            TrainingJobs.request(c, request);
        } catch (TrainingJobs.RequestIdTaken e) {
            throw ApiProblem.conflict(e.getMessage());
        }
        ObjectNode answer = Json.object()
                .put("request_id", request.requestId())
                .put("project", request.project())
                .put("topic", CODEC.topic().topic());
        return ApiResponse.accepted(answer).withOutcome("requested " + request.requestId());
    }

    private ApiResponse list(ApiRequest req) throws SQLException {
        Page.Request page = req.page();
        Optional<TrainingJobStatus> status = req.query("status").map(s -> {
            try {
                return TrainingJobStatus.fromStored(s);
            } catch (IllegalArgumentException e) {
                throw ApiProblem.badRequest(
                        "status: " + Quote.of(s) + " is not one of queued, running, succeeded, failed, cancelled");
            }
        });
        TrainingJobs.Filter filter = new TrainingJobs.Filter(req.query("project"), status, req.query("request_id"));
        List<ObjectNode> rows = new ArrayList<>();
        try (Connection c = req.database().getConnection()) {
            for (TrainingJobs.Summary j : TrainingJobs.list(c, filter, page.fetchSize(), page.afterId())) {
                rows.add(TrainingViews.job(j));
            }
        }
        return ApiResponse.ok(Page.of(page, rows, row -> row.get("id").asText()));
    }

    private ApiResponse one(ApiRequest req) throws SQLException {
        long id = req.pathId("id");
        try (Connection c = req.database().getConnection()) {
            return ApiResponse.ok(TrainingViews.job(found(c, id)));
        }
    }

    private static TrainingJobs.Detail found(Connection c, long id) throws SQLException {
        return TrainingJobs.find(c, id).orElseThrow(() -> ApiProblem.notFound("no training job " + id));
    }

    private ApiResponse cancel(ApiRequest req) throws SQLException {
        long id = req.pathId("id");
        try (Connection c = req.database().getConnection()) {
            TrainingJobs.Cancellation done =
                    TrainingJobs.cancel(c, id).orElseThrow(() -> ApiProblem.notFound("no training job " + id));
            if (done.before().isFinal()) {
                throw ApiProblem.conflict("training job " + id + " already " + done.before() + ": nothing to cancel");
            }
            String outcome = done.after() == TrainingJobStatus.CANCELLED
                    ? "cancelled"
                    : "asked to stop; its worker marks it cancelled at its next heartbeat";
            return ApiResponse.ok(TrainingViews.job(found(c, id))).withOutcome("job " + id + " " + outcome);
        }
    }

    private ApiResponse deploy(ApiRequest req) throws SQLException {
        long id = req.pathId("id");
        try (Connection c = req.database().getConnection()) {
            ModelDeployments.Deployment d =
                    ModelDeployments.deploy(c, id).orElseThrow(() -> ApiProblem.notFound("no model " + id));
            return ApiResponse.ok(TrainingViews.deployment(d))
                    .withOutcome("model " + id + " deployed for project " + Quote.of(d.project()));
        } catch (ModelDeployments.Refused e) {
            throw refusal(e);
        }
    }

    private ApiResponse rollback(ApiRequest req) throws SQLException {
        String project = req.path("project");
        try (Connection c = req.database().getConnection()) {
            ModelDeployments.Deployment d = ModelDeployments.rollback(c, project)
                    .orElseThrow(() -> ApiProblem.notFound("project " + Quote.of(project) + " has no model"));
            return ApiResponse.ok(TrainingViews.deployment(d))
                    .withOutcome("project " + Quote.of(project) + " rolled back to model " + d.modelId());
        } catch (ModelDeployments.Refused e) {
            throw refusal(e);
        }
    }

    private static ApiProblem refusal(ModelDeployments.Refused e) {
        return e.conflict()
                ? ApiProblem.conflict(e.getMessage())
                : ApiProblem.unprocessable(e.getMessage(), Map.of("backend", "pgml models are deployed by PostgresML"));
    }
}
