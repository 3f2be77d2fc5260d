package io.ragline.console.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Small builders of JSON Schema (2020-12, as OpenAPI 3.1 uses) for route descriptions. */
public final class Schemas {
    private Schemas() {}

    public static ObjectNode string() {
        return type("string");
    }

    public static ObjectNode string(String description) {
        return string().put("description", description);
    }

    public static ObjectNode enumeration(String... values) {
        ObjectNode s = string();
        ArrayNode e = s.putArray("enum");
        for (String v : values) {
            e.add(v);
        }
        return s;
    }

    public static ObjectNode dateTime() {
        return string().put("format", "date-time");
    }

    public static ObjectNode integer() {
        return type("integer");
    }

    public static ObjectNode integer(long min, long max) {
        return integer().put("minimum", min).put("maximum", max);
    }

    public static ObjectNode number() {
        return type("number");
    }

    public static ObjectNode bool() {
        return type("boolean");
    }

    /** Any JSON object (metadata, payloads, metrics). */
    public static ObjectNode anyObject() {
        return type("object");
    }

    /** {@code schema} or {@code null}. */
    public static ObjectNode nullable(JsonNode schema) {
        ObjectNode s = Json.object();
        s.putArray("anyOf").add(schema).add(type("null"));
        return s;
    }

    public static ObjectNode array(JsonNode items) {
        ObjectNode s = type("array");
        s.set("items", items);
        return s;
    }

    /** An object of {@code properties} (name, schema, name, schema...), with {@code required} listed. */
    public static ObjectNode object(Object... properties) {
        ObjectNode s = type("object");
        ObjectNode p = s.putObject("properties");
        for (int i = 0; i < properties.length; i += 2) {
            p.set((String) properties[i], (JsonNode) properties[i + 1]);
        }
        return s;
    }

    public static ObjectNode required(ObjectNode objectSchema, String... names) {
        ArrayNode r = objectSchema.putArray("required");
        for (String n : names) {
            r.add(n);
        }
        return objectSchema;
    }

    /** A list page of {@code item}: {@code {"items": [...], "next": cursor | null}} ({@link Page}). */
    public static ObjectNode page(JsonNode item) {
        return required(object("items", array(item), "next", nullable(string())), "items", "next");
    }

    private static ObjectNode type(String type) {
        return Json.object().put("type", type);
    }
}
