package io.ragline.console.conversations;

import static io.ragline.console.api.Schemas.anyObject;
import static io.ragline.console.api.Schemas.array;
import static io.ragline.console.api.Schemas.dateTime;
import static io.ragline.console.api.Schemas.enumeration;
import static io.ragline.console.api.Schemas.integer;
import static io.ragline.console.api.Schemas.nullable;
import static io.ragline.console.api.Schemas.object;
import static io.ragline.console.api.Schemas.required;
import static io.ragline.console.api.Schemas.string;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** The JSON Schemas of {@link ConversationsApi}'s bodies and answers, for the OpenAPI document. */
final class ConversationsDocs {
    private static final String[] ROLES = {"system", "user", "assistant", "tool"};

    private ConversationsDocs() {}

    static ObjectNode session() {
        return required(
                object(
                        "id", string(),
                        "title", nullable(string()),
                        "metadata", anyObject(),
                        "messages", integer(),
                        "collection", nullable(string("the memory collection its messages are embedded into")),
                        "created_at", dateTime(),
                        "updated_at", dateTime()),
                "id",
                "title",
                "metadata",
                "messages",
                "collection",
                "created_at",
                "updated_at");
    }

    static ObjectNode message() {
        return required(
                object(
                        "id", string(),
                        "seq", integer(),
                        "role", enumeration(ROLES),
                        "content", string(),
                        "metadata", anyObject(),
                        "created_at", dateTime()),
                "id",
                "seq",
                "role",
                "content",
                "metadata",
                "created_at");
    }

    static ObjectNode history() {
        return required(
                object("items", array(message()), "next", nullable(string("the cursor of the next page"))),
                "items",
                "next");
    }

    static ObjectNode createBody() {
        ObjectNode body = object(
                "id",
                        string(
                                "the session's id (1 to 200 characters, no '/' or control character); a new UUID when absent"),
                "title", nullable(string()),
                "metadata", nullable(anyObject()),
                "collection",
                        nullable(string("conversation memory: an existing collection each message is also embedded"
                                + " into, as the document conversation/<session>/<message>")));
        body.put("additionalProperties", false);
        return body;
    }

    static ObjectNode renameBody() {
        ObjectNode body = required(object("title", nullable(string("the new title; null clears it"))), "title");
        body.put("additionalProperties", false);
        return body;
    }

    static ObjectNode appendBody() {
        ObjectNode one = required(
                object(
                        "id", string("the message's id within its session (a retry with the same id stores nothing)"),
                        "role", enumeration(ROLES),
                        "content", string(),
                        "metadata", nullable(anyObject()),
                        "created_at", nullable(dateTime())),
                "id",
                "role",
                "content");
        one.put("additionalProperties", false);
        ObjectNode messages = array(one);
        messages.put("minItems", 1).put("maxItems", ConversationsApi.MAX_APPEND);
        ObjectNode body = required(object("messages", messages), "messages");
        body.put("additionalProperties", false);
        body.put(
                "description",
                "Stored in their order, once per session and id (a message whose id is stored already is left"
                        + " as it is). Each message is checked as the conversations topic checks it.");
        return body;
    }

    static ObjectNode appended() {
        return object("stored", integer(), "duplicates", integer(), "items", array(message()));
    }
}
