package io.ragline.contracts.event;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.Json;
import io.ragline.contracts.MessageCodec;
import io.ragline.contracts.Topic;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code claude_events} contract. Messages are written by SQL ({@code claude_event_message},
 * for the insert trigger and for replays); {@link #decode} holds one to the schema, and {@link
 * #readNamed} is the router's reading: only a message that does not say which event it is (source
 * and delivery id, from the message or its key {@code source/delivery_id}) is refused, any other
 * problem travels with the event so that its row can be marked failed.
 */
public final class ClaudeEventCodec implements MessageCodec<ClaudeEvent> {
    static final Set<String> FIELDS = Set.of(
            "schema_version",
            "id",
            "source",
            "delivery_id",
            "event_type",
            "priority",
            "payload",
            "headers",
            "created_at",
            "replay");
    private static final Pattern SOURCE = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    @Override
    public Topic topic() {
        return Topic.CLAUDE_EVENTS;
    }

    @Override
    public String key(ClaudeEvent event) {
        return event.key();
    }

    @Override
    public String encode(ClaudeEvent event) {
        return event.message().toString();
    }

    /** The event, refused for any problem. */
    @Override
    public ClaudeEvent decode(String key, byte[] value) throws InvalidMessageException {
        ClaudeEvent e = readNamed(key, value);
        if (e.problem() != null) {
            throw new InvalidMessageException(e.problem());
        }
        return e;
    }

    /**
     * The event with its problems, if any; refused only when it names no event (or is no JSON
     * object, or a tombstone).
     */
    public ClaudeEvent readNamed(String key, byte[] value) throws InvalidMessageException {
        if (value == null) {
            throw new InvalidMessageException("a tombstone is not an event (key " + describe(key) + ")");
        }
        ObjectNode root = Json.object(value);
        int slash = key == null ? -1 : key.indexOf('/');
        List<String> problems = new ArrayList<>();
        String source = Json.text(root, "source", problems, true);
        String deliveryId = Json.text(root, "delivery_id", problems, true);
        if (source == null && slash > 0) {
            source = key.substring(0, slash);
        }
        if (deliveryId == null && slash > 0 && slash < key.length() - 1) {
            deliveryId = key.substring(slash + 1);
        }
        if (source == null || source.isEmpty() || deliveryId == null || deliveryId.isEmpty()) {
            throw new InvalidMessageException("names no event: no source and delivery_id, and the key " + describe(key)
                    + " is not source/delivery_id");
        }
        Json.checkFields(root, FIELDS, problems);
        if (!SOURCE.matcher(source).matches()) {
            problems.add("source '" + Json.abbreviate(source) + "' is not a source name");
        }
        Long id = Json.integer(root, "id", problems, false);
        String eventType = Json.text(root, "event_type", problems, true);
        if (eventType != null && eventType.isEmpty()) {
            problems.add("event_type must not be empty");
        }
        if (!root.has("payload")) {
            problems.add("missing payload");
        }
        Long priority = Json.integer(root, "priority", problems, false);
        if (priority != null && (priority < Short.MIN_VALUE || priority > Short.MAX_VALUE)) {
            problems.add("priority must be between " + Short.MIN_VALUE + " and " + Short.MAX_VALUE);
        }
        JsonNode headers = root.get("headers");
        if (headers != null && !headers.isObject()) {
            problems.add("headers must be an object, not " + Json.kind(headers));
        }
        Json.text(root, "created_at", problems, false);
        int replay = 0;
        JsonNode r = root.get("replay");
        if (r != null && !r.isNull()) {
            if (r.isIntegralNumber() && r.asLong() >= 0 && r.asLong() <= Integer.MAX_VALUE) {
                replay = r.asInt();
            } else {
                problems.add("replay must be a non-negative integer");
            }
        }
        if (key != null && !key.equals(source + "/" + deliveryId)) {
            problems.add("the key " + describe(key) + " does not match source/delivery_id");
        }
        return new ClaudeEvent(
                id,
                source,
                deliveryId,
                eventType == null ? "" : eventType,
                replay,
                root,
                problems.isEmpty() ? null : String.join("; ", problems));
    }

    private static String describe(String key) {
        return key == null ? "(none)" : "'" + Json.abbreviate(key) + "'";
    }
}
