package io.ragline.ingest.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.core.consumer.JsonRecords;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.consumer.RecordDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads a {@code claude_events} record. A record that is not a JSON object, or does not say which
 * event it is (source and delivery id, from the message or its key {@code source/delivery_id}),
 * is poison: the loop dead-letters it as it is. One that names its event but is otherwise wrong
 * is returned with its problem, so that the router can mark that event failed.
 */
public final class ClaudeEventDecoder implements RecordDecoder<ClaudeEvent> {

    @Override
    public ClaudeEvent decode(ConsumerRecord<byte[], byte[]> record) throws PoisonRecordException {
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        if (record.value() == null) {
            throw new PoisonRecordException("a tombstone is not an event (key " + describe(key) + ")");
        }
        ObjectNode root = JsonRecords.object(record.value());
        int slash = key == null ? -1 : key.indexOf('/');
        String source = text(root, "source");
        String deliveryId = text(root, "delivery_id");
        if (source == null && slash > 0) {
            source = key.substring(0, slash);
        }
        if (deliveryId == null && slash > 0 && slash < key.length() - 1) {
            deliveryId = key.substring(slash + 1);
        }
        if (source == null || deliveryId == null) {
            throw new PoisonRecordException("names no event: no source and delivery_id, and the key " + describe(key)
                    + " is not source/delivery_id");
        }
        List<String> problems = new ArrayList<>();
        JsonNode schema = root.get("schema_version");
        if (schema != null && !(schema.isIntegralNumber() && schema.asInt() == 1)) {
            problems.add("schema_version must be 1");
        }
        JsonNode idNode = root.get("id");
        Long id = null;
        if (idNode != null && !idNode.isNull()) {
            if (idNode.isIntegralNumber() && idNode.canConvertToLong()) {
                id = idNode.asLong();
            } else {
                problems.add("id must be an integer");
            }
        }
        String eventType = text(root, "event_type");
        if (eventType == null) {
            problems.add("missing event_type (a string)");
        }
        JsonNode payload = root.get("payload");
        if (payload == null || payload.isMissingNode()) {
            problems.add("missing payload");
        }
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

    private static String text(JsonNode root, String field) {
        JsonNode n = root.get(field);
        return n != null && n.isTextual() && !n.asText().isEmpty() ? n.asText() : null;
    }

    private static String describe(String key) {
        if (key == null) {
            return "(none)";
        }
        return "'" + (key.length() <= 80 ? key : key.substring(0, 80) + "…") + "'";
    }
}
