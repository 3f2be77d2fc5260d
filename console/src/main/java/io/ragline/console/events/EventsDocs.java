package io.ragline.console.events;

import static io.ragline.console.api.Schemas.anyObject;
import static io.ragline.console.api.Schemas.array;
import static io.ragline.console.api.Schemas.dateTime;
import static io.ragline.console.api.Schemas.integer;
import static io.ragline.console.api.Schemas.nullable;
import static io.ragline.console.api.Schemas.object;
import static io.ragline.console.api.Schemas.required;
import static io.ragline.console.api.Schemas.string;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.Json;

/** The JSON Schemas of {@link EventsApi}'s bodies and answers, for the OpenAPI document. */
final class EventsDocs {
    private EventsDocs() {}

    /** An event as listed. */
    static ObjectNode event() {
        return object(
                "id", integer(),
                "source", string(),
                "delivery_id", string(),
                "event_type", string(),
                "status", string(),
                "received_at", dateTime(),
                "routed_at", nullable(dateTime()),
                "error", nullable(string()),
                "attempts", integer(),
                "replays", integer());
    }

    /** An event with what it carried. */
    static ObjectNode detail() {
        ObjectNode s = event();
        ObjectNode p = (ObjectNode) s.get("properties");
        p.set("payload", Json.object().put("description", "the event's JSON payload, as received"));
        p.set("headers", anyObject());
        p.set("priority", integer());
        return s;
    }

    static ObjectNode replayBody() {
        ObjectNode ids = array(integer(1, Long.MAX_VALUE));
        ids.put("minItems", 1).put("maxItems", EventsApi.MAX_REPLAY_IDS);
        ObjectNode body = required(object("ids", ids), "ids");
        body.put("additionalProperties", false);
        return body;
    }

    static ObjectNode replayed() {
        return object("replayed", integer(), "items", array(event()));
    }
}
