package io.ragline.console.training;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.Json;
import io.ragline.console.api.Schemas;
import io.ragline.training.job.TrainingJobs;
import io.ragline.training.model.ModelDeployments;
import io.ragline.training.schedule.TrainingSchedules;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The JSON of training jobs, models and schedules as the API writes them, and their schemas. */
final class TrainingViews {
    /** The field a contract's problem names: "missing project", "unknown field 'x'", "test_size must ...". */
    private static final Pattern FIELD =
            Pattern.compile("^(?:missing |unknown field ')?([a-z_]+(?:\\.[a-z_]+)*)(?:'| |$)");

    private TrainingViews() {}

    static final ObjectNode JOB = Schemas.object(
            "id", Schemas.integer(),
            "request_id", Schemas.string("the request's idempotency key"),
            "project", Schemas.string(),
            "task", Schemas.string(),
            "backend", Schemas.enumeration("builtin", "pgml"),
            "algorithm", Schemas.nullable(Schemas.string()),
            "status", Schemas.enumeration("queued", "running", "succeeded", "failed", "cancelled"),
            "attempts", Schemas.integer(),
            "requested_at", Schemas.dateTime(),
            "started_at", Schemas.nullable(Schemas.dateTime()),
            "finished_at", Schemas.nullable(Schemas.dateTime()),
            "error", Schemas.nullable(Schemas.string()),
            "accuracy", Schemas.nullable(Schemas.number()));

    static final ObjectNode MODEL = Schemas.object(
            "id", Schemas.integer(),
            "backend", Schemas.enumeration("builtin", "pgml"),
            "algorithm", Schemas.nullable(Schemas.string()),
            "deployed", Schemas.bool(),
            "pgml_model_id", Schemas.nullable(Schemas.integer()),
            "artifact_bytes", Schemas.nullable(Schemas.integer()),
            "deploy_reason", Schemas.nullable(Schemas.string()),
            "created_at", Schemas.dateTime(),
            "deployed_at", Schemas.nullable(Schemas.dateTime()));

    static final ObjectNode JOB_DETAIL = detailSchema();

    private static ObjectNode detailSchema() {
        ObjectNode s = JOB.deepCopy();
        ObjectNode p = (ObjectNode) s.get("properties");
        p.set("cancel_requested", Schemas.bool());
        p.set("worker", Schemas.nullable(Schemas.string()));
        p.set("data", Schemas.anyObject());
        p.set("hyperparameters", Schemas.anyObject());
        p.set("parameters", Schemas.anyObject());
        p.set("heartbeat_at", Schemas.nullable(Schemas.dateTime()));
        p.set(
                "metrics",
                Schemas.array(Schemas.object(
                        "split", Schemas.enumeration("test", "train"),
                        "name", Schemas.string(),
                        "value", Schemas.number())));
        p.set("model", Schemas.nullable(MODEL));
        return s;
    }

    static final ObjectNode DEPLOYMENT = Schemas.object(
            "project", Schemas.string(),
            "model_id", Schemas.integer(),
            "undeployed_model_id", Schemas.nullable(Schemas.integer()));

    static final ObjectNode SCHEDULE = Schemas.object(
            "name", Schemas.string(),
            "request", Schemas.anyObject(),
            "every", Schemas.string("the interval, as 30m, 6h or 7d"),
            "every_seconds", Schemas.integer(),
            "min_new_labelled", Schemas.integer(),
            "enabled", Schemas.bool(),
            "next_run_at", Schemas.dateTime(),
            "last_run_at", Schemas.nullable(Schemas.dateTime()),
            "last_request_id", Schemas.nullable(Schemas.string()),
            "last_result", Schemas.nullable(Schemas.string()));

    static ObjectNode job(TrainingJobs.Summary j) {
        ObjectNode n = Json.object();
        n.put("id", j.id());
        n.put("request_id", j.requestId());
        n.put("project", j.project());
        n.put("task", j.task());
        n.put("backend", j.backend());
        n.put("algorithm", j.algorithm());
        n.put("status", j.status().stored());
        n.put("attempts", j.attempts());
        n.put("requested_at", text(j.requestedAt()));
        n.put("started_at", text(j.startedAt()));
        n.put("finished_at", text(j.finishedAt()));
        n.put("error", j.error());
        n.put("accuracy", j.accuracy());
        return n;
    }

    static ObjectNode job(TrainingJobs.Detail d) {
        ObjectNode n = job(d.summary());
        n.put("cancel_requested", d.cancelRequested());
        n.put("worker", d.worker());
        n.set("data", d.data());
        n.set("hyperparameters", d.hyperparameters());
        n.set("parameters", d.parameters());
        n.put("heartbeat_at", text(d.heartbeatAt()));
        var metrics = n.putArray("metrics");
        for (TrainingJobs.Metric m : d.metrics()) {
            metrics.addObject().put("split", m.split()).put("name", m.name()).put("value", m.value());
        }
        if (d.models().isEmpty()) {
            n.putNull("model");
        } else {
            n.set("model", model(d.models().get(d.models().size() - 1)));
        }
        return n;
    }

    private static ObjectNode model(TrainingJobs.Model m) {
        ObjectNode n = Json.object();
        n.put("id", m.id());
        n.put("backend", m.backend());
        n.put("algorithm", m.algorithm());
        n.put("deployed", m.deployed());
        n.put("pgml_model_id", m.pgmlModelId());
        n.put("artifact_bytes", m.artifactBytes());
        n.put("deploy_reason", m.deployReason());
        n.put("created_at", text(m.createdAt()));
        n.put("deployed_at", text(m.deployedAt()));
        return n;
    }

    static ObjectNode deployment(ModelDeployments.Deployment d) {
        ObjectNode n = Json.object();
        n.put("project", d.project());
        n.put("model_id", d.modelId());
        n.put("undeployed_model_id", d.undeployed().orElse(null));
        return n;
    }

    static ObjectNode schedule(TrainingSchedules.Schedule s) {
        ObjectNode n = Json.object();
        n.put("name", s.name());
        n.set("request", s.request());
        n.put("every", io.ragline.core.config.Problems.text(s.every()));
        n.put("every_seconds", s.every().toSeconds());
        n.put("min_new_labelled", s.minNewLabelled());
        n.put("enabled", s.enabled());
        n.put("next_run_at", text(s.nextRunAt()));
        n.put("last_run_at", text(s.lastRunAt()));
        n.put("last_request_id", s.lastRequestId());
        n.put("last_result", s.lastResult());
        return n;
    }

    /** A codec's problem ("test_size must be ...") under the field it names first, "body" otherwise. */
    static void addProblem(Map<String, String> fields, String problem) {
        Matcher m = FIELD.matcher(problem);
        String field = m.find() && !m.group(1).equals("the") ? m.group(1) : "body";
        fields.merge(field, problem, (a, b) -> a + "; " + b);
    }

    private static String text(Instant t) {
        return t == null ? null : t.toString();
    }
}
