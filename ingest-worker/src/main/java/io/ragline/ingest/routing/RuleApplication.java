package io.ragline.ingest.routing;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.Topic;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.contracts.event.ClaudeEvent;
import io.ragline.contracts.training.TrainingRequestCodec;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns an event and the rule that matched it into the message the rule's action sends: a
 * {@code documents} upsert or a {@code training} request, each checked against its contract
 * before it is written, by the decoder its consumer uses (a routed message that would be
 * dead-lettered fails its event instead, where the operator looks).
 */
final class RuleApplication {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What goes into the outbox: topic, key, value. */
    record Outgoing(Topic topic, String key, ObjectNode value) {}

    private final DocumentCodec documents;
    private final TrainingRequestCodec training = new TrainingRequestCodec();

    RuleApplication(int maxContentBytes) {
        this.documents = new DocumentCodec(maxContentBytes);
    }

    /** The message for {@code rule}'s action; null for {@code record}, which sends nothing. */
    Outgoing apply(RoutingRule rule, ClaudeEvent event) throws RuleException {
        if (!rule.valid()) {
            throw new RuleException(
                    "routing rule '" + rule.name() + "' is invalid: " + String.join("; ", rule.problems()));
        }
        return switch (rule.action()) {
            case RECORD -> null;
            case INGEST_DOCUMENT -> document(rule, event);
            case REQUEST_TRAINING -> training(rule, event);
        };
    }

    private Outgoing document(RoutingRule rule, ClaudeEvent event) throws RuleException {
        Map<String, JsonNode> f = resolve(rule, event);
        ObjectNode doc = JSON.createObjectNode();
        doc.put("schema_version", 1);
        doc.put("op", "upsert");
        doc.put(
                "collection",
                f.containsKey("collection") ? f.get("collection").asText() : DocumentCodec.DEFAULT_COLLECTION);
        doc.put("id", f.get("id").asText());
        if (f.containsKey("title")) {
            doc.put("title", f.get("title").asText());
        }
        doc.put("content", f.get("content").asText());
        doc.put("source", f.containsKey("source") ? f.get("source").asText() : event.key());
        if (f.containsKey("metadata")) {
            doc.set("metadata", f.get("metadata"));
        }
        if (f.containsKey("version")) {
            doc.put("version", DocumentVersion.parse(f.get("version")));
        } else if (event.message().hasNonNull("created_at")) {
            // Without a version from the payload, the event's own time: two events about one
            // document, routed in either order (their keys may sit in different partitions), or an
            // old event replayed, never bring older content back over newer.
            Long version = DocumentVersion.parse(event.message().get("created_at"));
            if (version != null) {
                doc.put("version", version);
            }
        }
        String key = doc.get("collection").asText() + "/" + doc.get("id").asText();
        try {
            documents.decode(key, doc.toString().getBytes(StandardCharsets.UTF_8));
        } catch (InvalidMessageException e) {
            throw new RuleException(prefix(rule) + "the document is invalid: " + e.getMessage());
        }
        return new Outgoing(Topic.DOCUMENTS, key, doc);
    }

    private Outgoing training(RoutingRule rule, ClaudeEvent event) throws RuleException {
        Map<String, JsonNode> f = resolve(rule, event);
        ObjectNode request = JSON.createObjectNode();
        request.put("schema_version", 1);
        String requestId = f.containsKey("request_id")
                ? f.get("request_id").asText()
                : event.key() + (event.replay() > 0 ? "/replay-" + event.replay() : "");
        request.put("request_id", requestId);
        request.put("project", f.get("project").asText());
        request.put("task", f.get("task").asText());
        String backend = f.get("backend").asText();
        request.put("backend", backend);
        request.set("data", f.get("data"));
        if (f.containsKey("algorithm")) {
            request.put("algorithm", f.get("algorithm").asText());
        }
        request.set("hyperparameters", f.getOrDefault("hyperparameters", JSON.createObjectNode()));
        if (f.containsKey("test_size")) {
            request.set("test_size", f.get("test_size"));
        }
        if (f.containsKey("deploy")) {
            request.put("deploy", f.get("deploy").asText());
        }
        String key = f.get("project").asText();
        try {
            training.decode(key, request.toString().getBytes(StandardCharsets.UTF_8));
        } catch (InvalidMessageException e) {
            throw new RuleException(prefix(rule) + "the training request is invalid: " + e.getMessage());
        }
        return new Outgoing(Topic.TRAINING, key, request);
    }

    /**
     * Every field the rule fills, from {@code fixed} or by its path; a path that leads nowhere (or
     * to null) leaves the field out. A required field left out, or a value of the wrong type,
     * fails the event.
     */
    static Map<String, JsonNode> resolve(RoutingRule rule, ClaudeEvent event) throws RuleException {
        Map<String, JsonNode> out = new LinkedHashMap<>(rule.fixed());
        for (Map.Entry<String, JsonPointer> p : rule.paths().entrySet()) {
            JsonNode v = event.message().at(p.getValue());
            if (v.isMissingNode() || v.isNull()) {
                continue;
            }
            String why = rule.action().check(p.getKey(), v);
            if (why != null) {
                throw new RuleException(prefix(rule) + "'" + p.getKey() + "' at " + p.getValue() + " " + why);
            }
            out.put(p.getKey(), v);
        }
        for (String field : rule.action().fields()) {
            if (rule.action().required().contains(field) && !out.containsKey(field)) {
                throw new RuleException(prefix(rule) + "required field '" + field + "' has no value at "
                        + rule.paths().get(field) + " in the event");
            }
        }
        return out;
    }

    private static String prefix(RoutingRule rule) {
        return "rule '" + rule.name() + "' (" + rule.action().label() + "): ";
    }
}
