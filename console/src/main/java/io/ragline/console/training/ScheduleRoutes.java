package io.ragline.console.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.ApiProblem;
import io.ragline.console.api.ApiRequest;
import io.ragline.console.api.ApiResponse;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Page;
import io.ragline.console.api.Quote;
import io.ragline.console.api.Schemas;
import io.ragline.core.http.ApiTokens.Role;
import io.ragline.training.schedule.TrainingSchedules;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code /api/v1/training/schedules}: recurring training ({@code training_schedules}, run by
 * {@code run_training_schedules()}, which pg_cron or the training-worker's scheduler calls). The
 * list says which of the two runs them ({@code runner}), as far as the console's login may see.
 */
final class ScheduleRoutes {
    private static final Set<String> FIELDS = Set.of("name", "request", "every", "min_new_labelled", "enabled");

    void register(ApiRoutes routes) {
        ObjectNode list = Schemas.page(TrainingViews.SCHEDULE);
        ((ObjectNode) list.get("properties"))
                .set(
                        "runner",
                        Schemas.nullable(Schemas.enumeration("pg_cron", "training-worker")
                                .put("description", "who calls run_training_schedules(); null when unknown")));
        routes.get("/training/schedules", Role.VIEWER, "Training schedules, by name", this::list)
                .describe(r -> r.tag("training").paged().answers(200, "a page of schedules", list));
        routes.post("/training/schedules", Role.ADMIN, "Add a training schedule", this::add)
                .describe(r -> r.tag("training")
                        .description("`request` is a training request without `request_id` (each run gets"
                                + " `scheduled:<project>:<time>`); `every` at least 1m; with `min_new_labelled` > 0"
                                + " (builtin only) a run requests training only when that many labelled documents"
                                + " were embedded since the project's last succeeded job. Due at once.")
                        .body(Schemas.required(
                                Schemas.object(
                                        "name", Schemas.string(),
                                        "request", Schemas.anyObject(),
                                        "every", Schemas.string("30m, 6h, PT24H"),
                                        "min_new_labelled", Schemas.integer(0, Integer.MAX_VALUE),
                                        "enabled", Schemas.bool()),
                                "name",
                                "request",
                                "every"))
                        .answers(201, "added", TrainingViews.SCHEDULE)
                        .fails(409, "a schedule of that name exists")
                        .fails(422, "a field breaks a rule; errors names each"));
        routes.delete("/training/schedules/{name}", Role.ADMIN, "Remove a training schedule", this::remove)
                .describe(r -> r.tag("training")
                        .answers(204, "removed (a run it requested goes on)", null)
                        .fails(404, "no such schedule"));
    }

    private ApiResponse list(ApiRequest req) throws SQLException {
        Page.Request page = req.page();
        List<ObjectNode> rows = new ArrayList<>();
        Optional<Boolean> cron;
        try (Connection c = req.database().getConnection()) {
            for (TrainingSchedules.Schedule s : TrainingSchedules.list(c, page.fetchSize(), page.after())) {
                rows.add(TrainingViews.schedule(s));
            }
            cron = TrainingSchedules.cronRunsThem(c);
        }
        ObjectNode answer = Page.of(page, rows, row -> row.get("name").asText());
        answer.put(
                "runner", cron.map(yes -> yes ? "pg_cron" : "training-worker").orElse(null));
        return ApiResponse.ok(answer);
    }

    private ApiResponse add(ApiRequest req) throws SQLException {
        ObjectNode body = req.object();
        Map<String, String> problems = new LinkedHashMap<>();
        body.fieldNames().forEachRemaining(f -> {
            if (!FIELDS.contains(f)) {
                problems.put(f, "unknown field");
            }
        });
        String name = text(body, "name", problems);
        String every = text(body, "every", problems);
        Integer min = null;
        JsonNode m = body.get("min_new_labelled");
        if (m != null && !m.isNull()) {
            if (m.isInt()) {
                min = m.intValue();
            } else {
                problems.put("min_new_labelled", "must be a whole number");
            }
        }
        Boolean enabled = null;
        JsonNode e = body.get("enabled");
        if (e != null && !e.isNull()) {
            if (e.isBoolean()) {
                enabled = e.booleanValue();
            } else {
                problems.put("enabled", "must be true or false");
            }
        }
        if (!problems.isEmpty()) {
            throw ApiProblem.unprocessable("not a valid training schedule: " + problems, problems);
        }
        try (Connection c = req.database().getConnection()) {
            TrainingSchedules.Schedule s = TrainingSchedules.add(
                    c, new TrainingSchedules.NewSchedule(name, body.get("request"), every, min, enabled));
            return ApiResponse.created(TrainingViews.schedule(s)).withOutcome("schedule " + Quote.of(name) + " added");
        } catch (TrainingSchedules.Invalid x) {
            throw ApiProblem.unprocessable("not a valid training schedule: " + x.fields(), x.fields());
        } catch (TrainingSchedules.NameTaken x) {
            throw ApiProblem.conflict(x.getMessage());
        }
    }

    private static String text(ObjectNode body, String field, Map<String, String> problems) {
        JsonNode n = body.get(field);
        if (n != null && !n.isNull() && !n.isTextual()) {
            problems.put(field, "must be a string");
            return null;
        }
        return n == null || n.isNull() ? null : n.asText();
    }

    private ApiResponse remove(ApiRequest req) throws SQLException {
        String name = req.path("name");
        try (Connection c = req.database().getConnection()) {
            if (!TrainingSchedules.remove(c, name)) {
                throw ApiProblem.notFound("no training schedule " + Quote.of(name));
            }
        }
        return ApiResponse.noContent().withOutcome("schedule " + Quote.of(name) + " removed");
    }
}
