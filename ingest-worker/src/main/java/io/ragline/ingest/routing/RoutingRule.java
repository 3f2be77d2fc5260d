package io.ragline.ingest.routing;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One routing rule: which events it matches (globs over source and event type) and what it does.
 * {@code paths} takes a field of the produced message from the event by JSON Pointer (RFC 6901)
 * into the {@code claude_events} message, so {@code /payload/issue/title} reads the webhook body
 * and {@code /delivery_id} the envelope; {@code fixed} gives a field a constant JSON value. A rule
 * read from the table at run time may be invalid: it keeps its problems, and an event it matches
 * fails with them instead of falling through to another rule.
 *
 * @param origin where the rule was read, for messages: {@code rules.json rule 2 'issues'}
 */
record RoutingRule(
        String name,
        String origin,
        Glob source,
        Glob eventType,
        RoutingAction action,
        Map<String, JsonPointer> paths,
        Map<String, JsonNode> fixed,
        List<String> problems) {

    private static final Set<String> KEYS =
            Set.of("name", "description", "match", "source", "event_type", "action", "paths", "fixed", "enabled");

    boolean matches(String eventSource, String type) {
        return source.matches(eventSource) && eventType.matches(type);
    }

    boolean valid() {
        return problems.isEmpty();
    }

    /**
     * Reads a rule; every problem is collected in the returned rule's {@code problems}, each
     * prefixed with {@code origin}. {@code enabled: false} rules are read (and checked) too.
     */
    static RoutingRule parse(JsonNode node, String name, String origin) {
        List<String> problems = new ArrayList<>();
        if (node == null || !node.isObject()) {
            problems.add(origin + ": a rule must be a JSON object");
            return new RoutingRule(
                    name, origin, Glob.ANY, Glob.ANY, RoutingAction.RECORD, Map.of(), Map.of(), problems);
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KEYS.contains(key)) {
                problems.add(origin + ": unknown key '" + key + "' (known: " + String.join(", ", sorted(KEYS)) + ")");
            }
        }
        Glob source = Glob.ANY;
        Glob type = Glob.ANY;
        String match = text(node, "match", origin, problems);
        if (match != null) {
            if (node.has("source") || node.has("event_type")) {
                problems.add(origin + ": give either match or source/event_type, not both");
            }
            int slash = match.indexOf('/');
            if (match.equals("*")) {
                // every source, every type
            } else if (slash <= 0 || slash == match.length() - 1) {
                problems.add(origin + ": match '" + match + "' must be SOURCE/EVENT_TYPE (globs) or *");
            } else {
                source = Glob.of(match.substring(0, slash));
                type = Glob.of(match.substring(slash + 1));
            }
        } else {
            String s = text(node, "source", origin, problems);
            String t = text(node, "event_type", origin, problems);
            source = s == null ? Glob.ANY : Glob.of(s);
            type = t == null ? Glob.ANY : Glob.of(t);
        }
        String actionText = text(node, "action", origin, problems);
        RoutingAction action = actionText == null ? null : RoutingAction.parse(actionText);
        if (actionText == null) {
            problems.add(origin + ": action is missing (" + RoutingAction.labels() + ")");
        } else if (action == null) {
            problems.add(origin + ": action '" + actionText + "' is not " + RoutingAction.labels());
        }
        Map<String, JsonPointer> paths = new LinkedHashMap<>();
        Map<String, JsonNode> fixed = new LinkedHashMap<>();
        if (action != null) {
            readPaths(node.get("paths"), action, origin, problems, paths);
            readFixed(node.get("fixed"), action, origin, problems, fixed);
            for (String field : paths.keySet()) {
                if (fixed.containsKey(field)) {
                    problems.add(origin + ": '" + field + "' is in both paths and fixed: give one");
                }
            }
            for (String field : sorted(action.required())) {
                if (!paths.containsKey(field) && !fixed.containsKey(field)) {
                    problems.add(origin + ": " + action.label() + " needs '" + field + "' in paths or fixed");
                }
            }
        }
        return new RoutingRule(
                name,
                origin,
                source,
                type,
                action == null ? RoutingAction.RECORD : action,
                Collections.unmodifiableMap(paths),
                Collections.unmodifiableMap(fixed),
                List.copyOf(problems));
    }

    private static void readPaths(
            JsonNode node, RoutingAction action, String origin, List<String> problems, Map<String, JsonPointer> out) {
        if (node == null || node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            problems.add(origin + ": paths must be an object of field: \"/json/pointer\"");
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = origin + ": paths." + e.getKey();
            if (!action.fields().contains(e.getKey())) {
                problems.add(where + " is not a field of " + action.label() + fieldList(action));
            } else if (!e.getValue().isTextual() || !e.getValue().asText().startsWith("/")) {
                problems.add(where + " must be a JSON Pointer such as \"/payload/issue/title\", not "
                        + RoutingAction.show(e.getValue()));
            } else {
                try {
                    out.put(e.getKey(), JsonPointer.compile(e.getValue().asText()));
                } catch (IllegalArgumentException bad) {
                    problems.add(where + " is not a valid JSON Pointer: " + bad.getMessage());
                }
            }
        }
    }

    private static void readFixed(
            JsonNode node, RoutingAction action, String origin, List<String> problems, Map<String, JsonNode> out) {
        if (node == null || node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            problems.add(origin + ": fixed must be an object of field: value");
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = origin + ": fixed." + e.getKey();
            if (!action.fields().contains(e.getKey())) {
                problems.add(where + " is not a field of " + action.label() + fieldList(action));
                continue;
            }
            String why = e.getValue().isNull() ? "must not be null" : action.check(e.getKey(), e.getValue());
            if (why != null) {
                problems.add(where + " " + why);
            } else {
                out.put(e.getKey(), e.getValue());
            }
        }
    }

    private static String fieldList(RoutingAction action) {
        return action.fields().isEmpty() ? " (it takes none)" : " (" + String.join(", ", action.fields()) + ")";
    }

    private static String text(JsonNode node, String key, String origin, List<String> problems) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            problems.add(origin + ": " + key + " must be a non-empty string");
            return null;
        }
        return v.asText();
    }

    private static List<String> sorted(java.util.Collection<String> values) {
        return values.stream().sorted().toList();
    }
}
