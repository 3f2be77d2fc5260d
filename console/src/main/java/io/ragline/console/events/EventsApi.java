package io.ragline.console.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.ApiProblem;
import io.ragline.console.api.ApiRequest;
import io.ragline.console.api.ApiResponse;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Json;
import io.ragline.console.api.Page;
import io.ragline.console.api.Schemas;
import io.ragline.contracts.status.ClaudeEventStatus;
import io.ragline.core.events.ClaudeEvents;
import io.ragline.core.http.ApiTokens.Role;
import java.io.IOException;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * {@code /api/v1/events}: the inbound events of {@code claude_events} (webhooks, SQL inserts) with
 * their routing status, one with its payload, and replays (status back to {@code received}, the
 * message re-published through the outbox so the ingest-worker routes it again), through {@link
 * ClaudeEvents}, the home {@code ragline events} uses too.
 */
public final class EventsApi {
    /** The most ids one {@code POST /events/replay} may name. */
    public static final int MAX_REPLAY_IDS = 500;

    private static final String[] STATUS_VALUES = Arrays.stream(ClaudeEventStatus.values())
            .map(ClaudeEventStatus::stored)
            .toArray(String[]::new);
    private static final String STATUSES = String.join(", ", STATUS_VALUES);

    public void register(ApiRoutes routes) {
        routes.get("/events", Role.VIEWER, "List claude_events, newest first", this::list)
                .describe(r -> r.tag("events")
                        .query(
                                "source",
                                "only events of this source (a webhook source or SQL client)",
                                Schemas.string())
                        .query("type", "only events of this event_type", Schemas.string())
                        .query("status", "only events in this status", Schemas.enumeration(STATUS_VALUES))
                        .paged()
                        .answers(200, "a page of events, newest (highest id) first", Schemas.page(EventsDocs.event()))
                        .fails(400, "a bad query parameter (status, limit, after)"));
        routes.get("/events/{id}", Role.VIEWER, "One claude_event with its payload and headers", this::one)
                .describe(r -> r.tag("events")
                        .answers(200, "the event with its payload, headers and priority", EventsDocs.detail())
                        .fails(404, "no event has this id"));
        routes.post("/events/{id}/replay", Role.OPERATOR, "Replay one event", this::replayOne)
                .describe(r -> r.tag("events")
                        .description("Status back to received, replays + 1, and the event's message written to the"
                                + " outbox again in the same transaction (replay_claude_event): the ingest-worker"
                                + " routes it again.")
                        .answers(202, "replayed; the event as it is now", EventsDocs.event())
                        .fails(404, "no event has this id; nothing changed"));
        routes.post("/events/replay", Role.OPERATOR, "Replay several events, all or none", this::replayMany)
                .describe(r -> r.tag("events")
                        .description("Replays every event named, in one transaction, or none: when an id names no"
                                + " event the answer is 404 listing them and nothing is replayed.")
                        .body(EventsDocs.replayBody())
                        .answers(202, "every event replayed", EventsDocs.replayed())
                        .fails(400, "the body is not a JSON object")
                        .fails(404, "some ids name no event (the detail lists them); no event was replayed")
                        .fails(
                                422,
                                "ids is not a list of 1 to " + MAX_REPLAY_IDS + " positive integers, or"
                                        + " another field is given"));
    }

    private ApiResponse list(ApiRequest req) throws Exception {
        Page.Request page = req.page();
        ClaudeEventStatus status = null;
        Optional<String> statusText = req.query("status");
        if (statusText.isPresent()) {
            status = Arrays.stream(ClaudeEventStatus.values())
                    .filter(s -> s.stored().equals(statusText.get()))
                    .findFirst()
                    .orElseThrow(() -> ApiProblem.badRequest(
                            "status must be one of " + STATUSES + ", not '" + statusText.get() + "'"));
        }
        Long before = page.afterId().orElse(null);
        ClaudeEvents.Filter filter = new ClaudeEvents.Filter(
                req.query("source").orElse(null), req.query("type").orElse(null), status, before);
        List<ObjectNode> items = new ArrayList<>();
        try (Connection c = req.database().getConnection()) {
            for (ClaudeEvents.Event e : ClaudeEvents.list(c, filter, page.fetchSize())) {
                items.add(item(e));
            }
        }
        return ApiResponse.ok(Page.of(page, items, item -> item.get("id").asText()));
    }

    private ApiResponse one(ApiRequest req) throws Exception {
        long id = req.pathId("id");
        ClaudeEvents.Detail detail;
        try (Connection c = req.database().getConnection()) {
            detail = ClaudeEvents.find(c, id).orElseThrow(() -> ApiProblem.notFound("no event with id " + id));
        }
        ObjectNode item = item(detail.event());
        item.set("payload", parse(detail.payloadJson()));
        item.set("headers", parse(detail.headersJson()));
        item.put("priority", detail.priority());
        return ApiResponse.ok(item);
    }

    private ApiResponse replayOne(ApiRequest req) throws Exception {
        long id = req.pathId("id");
        try (Connection c = req.database().getConnection()) {
            ClaudeEvents.Event replayed =
                    ClaudeEvents.replay(c, id).orElseThrow(() -> ApiProblem.notFound("no event with id " + id));
            return ApiResponse.accepted(item(replayed)).withOutcome("replayed event " + id);
        }
    }

    private ApiResponse replayMany(ApiRequest req) throws Exception {
        List<Long> ids = replayIds(req.object());
        try (Connection c = req.database().getConnection()) {
            c.setAutoCommit(false);
            try {
                ClaudeEvents.Replays replays = ClaudeEvents.replayAll(c, ids);
                if (!replays.missing().isEmpty()) {
                    c.rollback();
                    throw ApiProblem.notFound("no event with id "
                            + replays.missing().stream().map(String::valueOf).collect(Collectors.joining(", "))
                            + "; no event was replayed");
                }
                c.commit();
                ObjectNode answer = Json.MAPPER.createObjectNode();
                answer.put("replayed", replays.replayed().size());
                ArrayNode items = answer.putArray("items");
                replays.replayed().forEach(e -> items.add(item(e)));
                return ApiResponse.accepted(answer).withOutcome("replayed " + ids.size() + " events");
            } catch (Exception e) {
                if (!c.getAutoCommit()) {
                    c.rollback();
                }
                throw e;
            }
        }
    }

    /** The ids of a {@code POST /events/replay} body, or a 422 naming what is wrong. */
    static List<Long> replayIds(JsonNode body) {
        List<String> unknown = new ArrayList<>();
        body.fieldNames().forEachRemaining(name -> {
            if (!name.equals("ids")) {
                unknown.add(name);
            }
        });
        if (!unknown.isEmpty()) {
            throw ApiProblem.unprocessable(
                    "unknown field " + String.join(", ", unknown),
                    unknown.stream().collect(Collectors.toMap(n -> n, n -> "unknown field")));
        }
        JsonNode ids = body.get("ids");
        String problem = null;
        if (ids == null || !ids.isArray()) {
            problem = "must be an array of event ids";
        } else if (ids.isEmpty() || ids.size() > MAX_REPLAY_IDS) {
            problem = "must hold 1 to " + MAX_REPLAY_IDS + " ids, not " + ids.size();
        } else {
            for (JsonNode id : ids) {
                if (!id.canConvertToLong() || !id.isIntegralNumber() || id.asLong() < 1) {
                    problem = "must hold positive integers only, not " + id;
                    break;
                }
            }
        }
        if (problem != null) {
            throw ApiProblem.unprocessable("ids " + problem, Map.of("ids", problem));
        }
        List<Long> out = new ArrayList<>(ids.size());
        ids.forEach(id -> out.add(id.asLong()));
        return out;
    }

    static ObjectNode item(ClaudeEvents.Event e) {
        ObjectNode item = Json.MAPPER.createObjectNode();
        item.put("id", e.id());
        item.put("source", e.source());
        item.put("delivery_id", e.deliveryId());
        item.put("event_type", e.eventType());
        item.put("status", e.status().stored());
        item.put("received_at", e.receivedAt() == null ? null : e.receivedAt().toString());
        item.put("routed_at", e.routedAt() == null ? null : e.routedAt().toString());
        item.put("error", e.error());
        item.put("attempts", e.attempts());
        item.put("replays", e.replays());
        return item;
    }

    private static JsonNode parse(String json) throws IOException {
        return json == null ? null : Json.MAPPER.readTree(json);
    }
}
