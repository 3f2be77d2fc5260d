package io.ragline.console.deadletters;

import static io.ragline.console.api.Schemas.anyObject;
import static io.ragline.console.api.Schemas.array;
import static io.ragline.console.api.Schemas.bool;
import static io.ragline.console.api.Schemas.dateTime;
import static io.ragline.console.api.Schemas.enumeration;
import static io.ragline.console.api.Schemas.integer;
import static io.ragline.console.api.Schemas.nullable;
import static io.ragline.console.api.Schemas.object;
import static io.ragline.console.api.Schemas.page;
import static io.ragline.console.api.Schemas.string;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.Json;

/** The JSON Schemas of {@link DeadLettersApi}'s bodies and answers, for the OpenAPI document. */
final class DeadLettersDocs {
    private DeadLettersDocs() {}

    static ObjectNode topics() {
        ObjectNode partition = object("partition", integer(), "start_offset", integer(), "end_offset", integer());
        return page(object("topic", string(), "source_topic", string(), "partitions", array(partition)));
    }

    static ObjectNode disposition() {
        return object(
                "action", enumeration("redriven", "discarded"),
                "by", string("the caller: a token's name, \"<role> token <fingerprint>\" or \"anonymous\""),
                "at", dateTime(),
                "detail", anyObject());
    }

    static ObjectNode records() {
        ObjectNode headers = anyObject();
        headers.set("additionalProperties", string());
        return page(object(
                "topic", string(),
                "partition", integer(),
                "offset", integer(),
                "timestamp", dateTime(),
                "key", nullable(string()),
                "value", nullable(string()),
                "value_truncated", bool(),
                "headers", headers,
                "reason", nullable(string()),
                "disposition", nullable(disposition())));
    }

    static ObjectNode redriveBody() {
        ObjectNode body = object(
                "value",
                string("a replacement for the record's value (the fixed message); without it the original value is"
                        + " published"));
        body.put("additionalProperties", false);
        return body;
    }

    static ObjectNode redriven() {
        return object(
                "topic", string(),
                "partition", integer(),
                "offset", integer(),
                "dead_letter", object("topic", string(), "partition", integer(), "offset", integer()),
                "disposition", disposition());
    }

    static ObjectNode discarded() {
        return object("topic", string(), "partition", integer(), "offset", integer(), "disposition", disposition());
    }

    static ObjectNode outboxPage() {
        return page(object(
                "id", integer(),
                "topic", string(),
                "key", nullable(string()),
                "payload", Json.object().put("description", "the row's JSON payload (null: a tombstone)"),
                "headers", anyObject(),
                "priority", integer(),
                "created_at", dateTime(),
                "attempts", integer(),
                "last_error", nullable(string()),
                "dead_lettered_at", dateTime()));
    }

    static ObjectNode outboxDisposed() {
        return object("id", integer(), "disposition", disposition());
    }
}
