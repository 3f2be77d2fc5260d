package io.ragline.contracts.event;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A message of the {@code claude_events} topic (claude_events.schema.json), built by the {@code
 * claude_event_message} SQL function: schema_version, id, source, delivery_id, event_type,
 * priority, payload, headers, created_at, replay. {@code problem} is set when the message names its
 * event (source and delivery id) but is otherwise not a valid message (see {@link
 * ClaudeEventCodec#readNamed}): the router then marks that event failed.
 *
 * @param id the {@code claude_events} row id, null when the message has none
 * @param replay which replay of the event this message is: 0 for the one the insert published
 * @param message the whole message, as rules address it with JSON pointers
 */
public record ClaudeEvent(
        Long id, String source, String deliveryId, String eventType, int replay, JsonNode message, String problem) {

    /** The Kafka key of the event's messages. */
    public String key() {
        return source + "/" + deliveryId;
    }
}
