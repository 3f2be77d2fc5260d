package io.ragline.console.conversations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
import io.ragline.contracts.conversation.ConversationCodec;
import io.ragline.contracts.conversation.ConversationMessage;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.conversations.Conversations;
import io.ragline.core.http.ApiTokens.Role;
import io.ragline.ingest.IngestSettings;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * {@code /api/v1/conversations}: conversation memory, sessions and their messages, through {@link
 * Conversations} (the home the ingest-worker's {@code conversations} consumer and {@code ragline
 * conversations} use). Messages appended here are checked by the topic's own codec, so the API
 * and the topic take exactly the same messages, and are stored once per session and id.
 */
public final class ConversationsApi {
    /** The most messages one append may carry. */
    public static final int MAX_APPEND = 500;

    private static final Set<String> SESSION_FIELDS = Set.of("id", "title", "metadata", "collection");
    private static final Set<String> MESSAGE_FIELDS = Set.of("id", "role", "content", "metadata", "created_at");
    private static final ConversationCodec CODEC = new ConversationCodec(IngestSettings.DEFAULT_MAX_CONTENT_BYTES);

    public void register(ApiRoutes routes) {
        routes.get("/conversations", Role.VIEWER, "List conversation sessions, newest first", this::list)
                .describe(r -> r.tag("conversations")
                        .query(
                                "metadata",
                                "only sessions whose metadata contains this JSON object (@>)",
                                Schemas.string())
                        .paged()
                        .answers(
                                200,
                                "a page of sessions, newest stored first",
                                Schemas.page(ConversationsDocs.session()))
                        .fails(400, "a bad query parameter (metadata, limit, after)"));
        routes.post("/conversations", Role.OPERATOR, "Create a conversation session", this::create)
                .describe(r -> r.tag("conversations")
                        .body(ConversationsDocs.createBody())
                        .answers(201, "created", ConversationsDocs.session())
                        .fails(400, "the body is not a JSON object")
                        .fails(409, "a session with this id exists; nothing changed")
                        .fails(422, "a field of the wrong type or too long, or an unknown field (errors names it)"));
        routes.get("/conversations/{id}", Role.VIEWER, "One conversation session", this::one)
                .describe(r -> r.tag("conversations")
                        .answers(200, "the session, with how many messages it has", ConversationsDocs.session())
                        .fails(404, "no session has this id"));
        routes.patch("/conversations/{id}", Role.OPERATOR, "Rename a conversation session", this::rename)
                .describe(r -> r.tag("conversations")
                        .body(ConversationsDocs.renameBody())
                        .answers(200, "renamed", ConversationsDocs.session())
                        .fails(400, "the body is not a JSON object")
                        .fails(404, "no session has this id")
                        .fails(422, "title missing, not a string or too long, or an unknown field"));
        routes.delete("/conversations/{id}", Role.OPERATOR, "Delete a session and its messages", this::delete)
                .describe(r -> r.tag("conversations")
                        .answers(204, "deleted, with its messages", null)
                        .fails(404, "no session has this id"));
        routes.post("/conversations/{id}/messages", Role.OPERATOR, "Append messages to a session", this::append)
                .describe(r -> r.tag("conversations")
                        .body(ConversationsDocs.appendBody())
                        .answers(
                                201,
                                "stored (those already stored are counted as duplicates)",
                                ConversationsDocs.appended())
                        .fails(400, "the body is not a JSON object")
                        .fails(404, "no session has this id")
                        .fails(422, "a message the conversations topic would refuse (errors names it by index)"));
        routes.get("/conversations/{id}/messages", Role.VIEWER, "A session's history, in order", this::history)
                .describe(r -> r.tag("conversations")
                        .description("Oldest first, page by page; with latest=N, the last N messages (oldest of"
                                + " them first) and no next page.")
                        .query(
                                "latest",
                                "only the last N messages (1 to " + Page.MAX_LIMIT + ")",
                                Schemas.integer(1, Page.MAX_LIMIT))
                        .paged()
                        .answers(200, "messages in the order they were stored", ConversationsDocs.history())
                        .fails(400, "a bad query parameter (latest, limit, after)")
                        .fails(404, "no session has this id"));
    }

    private ApiResponse list(ApiRequest req) throws Exception {
        Page.Request page = req.page();
        String metadata =
                req.query("metadata").map(ConversationsApi::jsonObject).orElse(null);
        List<ObjectNode> items = new ArrayList<>();
        try (Connection c = req.database().getConnection()) {
            for (Conversations.Session s :
                    Conversations.list(c, page.afterId().orElse(null), metadata, page.fetchSize())) {
                items.add(item(s));
            }
        }
        return ApiResponse.ok(Page.of(page, items, item -> item.get("seq").asText()));
    }

    private ApiResponse create(ApiRequest req) throws Exception {
        ObjectNode body = req.object();
        Map<String, String> errors = unknown(body, SESSION_FIELDS);
        String id = body.hasNonNull("id")
                ? body.get("id").isTextual() ? body.get("id").asText() : null
                : UUID.randomUUID().toString();
        if (id == null) {
            errors.put("id", "must be a string");
        } else if (ConversationCodec.idProblem(id, true) != null) {
            errors.put("id", ConversationCodec.idProblem(id, true));
        }
        String title = title(body, errors, false);
        JsonNode metadata = body.get("metadata");
        if (metadata != null && !metadata.isNull() && !metadata.isObject()) {
            errors.put("metadata", "must be an object");
        } else if (metadata != null && ConversationCodec.sessionProblem(null, metadata.toString()) != null) {
            errors.put("metadata", ConversationCodec.sessionProblem(null, metadata.toString()));
        }
        JsonNode collectionNode = body.get("collection");
        String collection = null;
        if (collectionNode != null && !collectionNode.isNull()) {
            if (!collectionNode.isTextual()
                    || !DocumentCodec.COLLECTION
                            .matcher(collectionNode.asText())
                            .matches()) {
                errors.put("collection", "must be a collection name");
            } else {
                collection = collectionNode.asText();
            }
        }
        refuse(errors);
        try (Connection c = req.database().getConnection()) {
            if (collection != null && CollectionCatalog.stored(c, collection) == null) {
                refuse(Map.of("collection", "no collection named " + Quote.of(collection)));
            }
            String metadataJson = metadata == null || metadata.isNull() ? "{}" : metadata.toString();
            Conversations.Session created = Conversations.create(c, id, title, metadataJson, collection)
                    .orElseThrow(() -> ApiProblem.conflict("a session with id " + Quote.of(id) + " exists"));
            return ApiResponse.created(item(created)).withOutcome("created session " + id);
        }
    }

    private ApiResponse one(ApiRequest req) throws Exception {
        String id = sessionId(req);
        try (Connection c = req.database().getConnection()) {
            return ApiResponse.ok(item(Conversations.find(c, id).orElseThrow(() -> notFound(id))));
        }
    }

    private ApiResponse rename(ApiRequest req) throws Exception {
        String id = sessionId(req);
        ObjectNode body = req.object();
        Map<String, String> errors = unknown(body, Set.of("title"));
        String title = title(body, errors, true);
        refuse(errors);
        try (Connection c = req.database().getConnection()) {
            if (!Conversations.rename(c, id, title)) {
                throw notFound(id);
            }
            return ApiResponse.ok(item(Conversations.find(c, id).orElseThrow(() -> notFound(id))))
                    .withOutcome("renamed session " + id);
        }
    }

    private ApiResponse delete(ApiRequest req) throws Exception {
        String id = sessionId(req);
        try (Connection c = req.database().getConnection()) {
            if (!Conversations.delete(c, id)) {
                throw notFound(id);
            }
            return ApiResponse.noContent().withOutcome("deleted session " + id + " and its messages");
        }
    }

    private ApiResponse append(ApiRequest req) throws Exception {
        String id = sessionId(req);
        List<ConversationMessage> messages = messages(id, req.object());
        try (Connection c = req.database().getConnection()) {
            c.setAutoCommit(false);
            try {
                if (!Conversations.hold(c, id)) {
                    throw notFound(id);
                }
                Conversations.Appended appended = Conversations.append(c, messages);
                List<Conversations.Message> stored = Conversations.messages(
                        c,
                        id,
                        messages.stream().map(ConversationMessage::messageId).toList());
                c.commit();
                ObjectNode answer = Json.MAPPER.createObjectNode();
                answer.put("stored", appended.stored());
                answer.put("duplicates", appended.duplicates());
                ArrayNode items = answer.putArray("items");
                stored.forEach(m -> items.add(item(m)));
                return ApiResponse.created(answer)
                        .withOutcome("appended " + appended.stored() + " messages to session " + id + " ("
                                + appended.duplicates() + " already stored)");
            } catch (Exception e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    private ApiResponse history(ApiRequest req) throws Exception {
        String id = sessionId(req);
        Page.Request page = req.page();
        int latest = req.intQuery("latest", 0, 1, Page.MAX_LIMIT);
        try (Connection c = req.database().getConnection()) {
            if (Conversations.find(c, id).isEmpty()) {
                throw notFound(id);
            }
            List<ObjectNode> items = new ArrayList<>();
            List<Conversations.Message> found = latest > 0
                    ? Conversations.latest(c, id, latest)
                    : Conversations.history(c, id, page.afterId().orElse(null), page.fetchSize());
            found.forEach(m -> items.add(item(m)));
            if (latest > 0) {
                ObjectNode answer = Json.MAPPER.createObjectNode();
                answer.set("items", Json.MAPPER.valueToTree(items));
                answer.putNull("next");
                return ApiResponse.ok(answer);
            }
            return ApiResponse.ok(Page.of(page, items, item -> item.get("seq").asText()));
        }
    }

    /** The messages of an append body, each checked by the topic's codec, or a 422 naming each bad one. */
    static List<ConversationMessage> messages(String sessionId, ObjectNode body) {
        Map<String, String> errors = unknown(body, Set.of("messages"));
        JsonNode list = body.get("messages");
        if (list == null || !list.isArray() || list.isEmpty() || list.size() > MAX_APPEND) {
            errors.put("messages", "must be an array of 1 to " + MAX_APPEND + " messages");
            refuse(errors);
        }
        List<ConversationMessage> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String field = "messages[" + i + "]";
            if (!m.isObject()) {
                errors.put(field, "must be an object");
                continue;
            }
            Map<String, String> unknown = unknown((ObjectNode) m, MESSAGE_FIELDS);
            if (!unknown.isEmpty()) {
                errors.put(field, "unknown field " + String.join(", ", unknown.keySet()));
                continue;
            }
            if (!m.hasNonNull("id")) {
                // Without the caller's id a retried request would store its messages again.
                errors.put(
                        field,
                        "id is required (the message's id within its session: a retry with the same id stores"
                                + " nothing)");
                continue;
            }
            ObjectNode record = ((ObjectNode) m).deepCopy();
            record.remove("id");
            record.put("session_id", sessionId);
            record.set("message_id", m.get("id"));
            try {
                out.add(CODEC.decode(sessionId, record.toString().getBytes(StandardCharsets.UTF_8)));
            } catch (InvalidMessageException e) {
                errors.put(field, e.getMessage().replace("message_id", "id"));
            }
        }
        refuse(errors);
        return out;
    }

    private static String title(ObjectNode body, Map<String, String> errors, boolean required) {
        JsonNode title = body.get("title");
        if (title == null) {
            if (required) {
                errors.put("title", "is required (null clears it)");
            }
            return null;
        }
        if (title.isNull()) {
            return null;
        }
        if (!title.isTextual()) {
            errors.put("title", "must be a string");
            return null;
        }
        String problem = ConversationCodec.sessionProblem(title.asText(), null);
        if (problem != null) {
            errors.put("title", problem.substring("title ".length()));
            return null;
        }
        return title.asText();
    }

    private static Map<String, String> unknown(ObjectNode body, Set<String> known) {
        Map<String, String> errors = new LinkedHashMap<>();
        body.fieldNames().forEachRemaining(name -> {
            if (!known.contains(name)) {
                errors.put(name, "unknown field");
            }
        });
        return errors;
    }

    private static void refuse(Map<String, String> errors) {
        if (!errors.isEmpty()) {
            throw ApiProblem.unprocessable(
                    errors.entrySet().stream()
                            .map(e -> e.getKey() + ": " + e.getValue())
                            .reduce((a, b) -> a + "; " + b)
                            .orElseThrow(),
                    errors);
        }
    }

    private static String jsonObject(String text) {
        try {
            JsonNode n = Json.MAPPER.readTree(text);
            if (n != null && n.isObject()) {
                return n.toString();
            }
        } catch (java.io.IOException e) {
            // below
        }
        throw ApiProblem.badRequest("metadata: must be a JSON object, such as {\"team\":\"support\"}");
    }

    private static String sessionId(ApiRequest req) {
        String id = req.path("id");
        if (ConversationCodec.idProblem(id, true) != null) {
            throw notFound(id);
        }
        return id;
    }

    private static ApiProblem notFound(String id) {
        return ApiProblem.notFound("no conversation session with id " + Quote.of(id));
    }

    static ObjectNode item(Conversations.Session s) {
        ObjectNode item = Json.MAPPER.createObjectNode();
        item.put("id", s.id());
        item.put("seq", s.seq());
        item.put("title", s.title());
        item.set("metadata", parse(s.metadataJson()));
        item.put("messages", s.messages());
        item.put("collection", s.collection());
        item.put("created_at", s.createdAt().toString());
        item.put("updated_at", s.updatedAt().toString());
        return item;
    }

    static ObjectNode item(Conversations.Message m) {
        ObjectNode item = Json.MAPPER.createObjectNode();
        item.put("id", m.id());
        item.put("seq", m.seq());
        item.put("role", m.role().json());
        item.put("content", m.content());
        item.set("metadata", parse(m.metadataJson()));
        item.put("created_at", m.createdAt().toString());
        return item;
    }

    private static JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("jsonb that is not JSON", e);
        }
    }
}
