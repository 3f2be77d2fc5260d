package io.ragline.ingest.routing;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a routing rule does with a matching event, and which fields of the produced message it
 * may fill ({@code paths} / {@code fixed}), which it must, and what each field accepts.
 */
enum RoutingAction {
    /** A {@code documents} upsert (documents.schema.json in ragline-contracts), key {@code collection/id}. */
    INGEST_DOCUMENT(
            List.of("collection", "id", "title", "content", "source", "metadata", "version"), Set.of("id", "content")),
    /** A {@code training} request (training.schema.json in ragline-contracts), key = project. */
    REQUEST_TRAINING(
            List.of(
                    "request_id",
                    "project",
                    "task",
                    "backend",
                    "data",
                    "algorithm",
                    "hyperparameters",
                    "test_size",
                    "deploy"),
            Set.of("project", "task", "backend", "data")),
    /** Nothing beyond the {@code claude_events} topic the event is already on. */
    RECORD(List.of(), Set.of());

    private static final Pattern COLLECTION = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    private final List<String> fields;
    private final Set<String> required;

    RoutingAction(List<String> fields, Set<String> required) {
        this.fields = fields;
        this.required = required;
    }

    /** The name in rules, metrics and the table: {@code ingest_document}, … */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    static RoutingAction parse(String label) {
        for (RoutingAction a : values()) {
            if (a.label().equals(label)) {
                return a;
            }
        }
        return null;
    }

    static String labels() {
        return "ingest_document, request_training or record";
    }

    List<String> fields() {
        return fields;
    }

    Set<String> required() {
        return required;
    }

    /** Why {@code value} cannot fill {@code field}, or null when it can. {@code value} is not null. */
    String check(String field, JsonNode value) {
        return switch (field) {
            case "collection" ->
                value.isTextual() && COLLECTION.matcher(value.asText()).matches()
                        ? null
                        : "must be a collection name (lower-case letters, digits, '-', '_'), not " + show(value);
            case "id", "request_id" ->
                (value.isTextual() || value.isIntegralNumber())
                                && !value.asText().isEmpty()
                                && value.asText().length() <= 512
                        ? null
                        : "must be a string or an integer of 1 to 512 characters, not " + show(value);
            case "title", "source", "algorithm" -> value.isTextual() ? null : "must be a string, not " + show(value);
            case "content" -> value.isTextual() ? null : "must be a string, not " + show(value);
            case "project", "task" ->
                value.isTextual() && !value.asText().isBlank()
                        ? null
                        : "must be a non-empty string, not " + show(value);
            case "metadata", "hyperparameters", "data" ->
                value.isObject() ? null : "must be an object, not " + show(value);
            case "version" ->
                DocumentVersion.parse(value) != null
                        ? null
                        : "must be a non-negative integer or an ISO-8601 timestamp, not " + show(value);
            case "backend" -> oneOf(value, "builtin", "pgml");
            case "deploy" -> oneOf(value, "if_better", "always", "never");
            case "test_size" ->
                value.isNumber() && value.asDouble() > 0 && value.asDouble() < 1
                        ? null
                        : "must be a number between 0 and 1 (exclusive), not " + show(value);
            default -> "is not a field of " + label();
        };
    }

    private static String oneOf(JsonNode value, String... allowed) {
        if (value.isTextual() && List.of(allowed).contains(value.asText())) {
            return null;
        }
        return "must be one of " + String.join(", ", allowed) + ", not " + show(value);
    }

    /** A value for an error message: its kind, and short text values themselves. */
    static String show(JsonNode value) {
        if (value.isTextual()) {
            String t = value.asText();
            return "'" + (t.length() <= 40 ? t : t.substring(0, 40) + "…") + "'";
        }
        if (value.isNumber() || value.isBoolean()) {
            return value.getNodeType().name().toLowerCase(Locale.ROOT) + " " + value.asText();
        }
        return value.getNodeType().name().toLowerCase(Locale.ROOT);
    }
}
