package io.ragline.contracts.document;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.Topic;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DocumentCodecTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final DocumentCodec codec = new DocumentCodec(1000);
    private final Decoder decoder = r -> codec.decode(r.key(), r.value());

    private record Raw(String key, byte[] value) {}

    @FunctionalInterface
    private interface Decoder {
        DocumentMessage decode(Raw r) throws InvalidMessageException;
    }

    private static Raw record(String key, String value) {
        return new Raw(key, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aValidUpsertIsDecoded() throws Exception {
        DocumentMessage m = decoder.decode(record(
                "docs/a",
                "{\"op\":\"upsert\",\"collection\":\"docs\",\"id\":\"a\",\"content\":\"hi\",\"version\":3,"
                        + "\"metadata\":{\"lang\":\"en\"}}"));

        assertThat(m.op()).isEqualTo(DocumentMessage.Op.UPSERT);
        assertThat(m.key()).isEqualTo("docs/a");
        assertThat(m.version()).isEqualTo(3L);
        assertThat(m.metadata()).containsEntry("lang", "en");
    }

    @Test
    void aTombstoneDeletesTheDocumentItsKeyNames() throws Exception {
        DocumentMessage m = decoder.decode(record("default/doc-1", null));

        assertThat(m.op()).isEqualTo(DocumentMessage.Op.DELETE);
        assertThat(m.collection()).isEqualTo("default");
        assertThat(m.id()).isEqualTo("doc-1");
    }

    @Test
    void eachKindOfBadRecordIsRefusedWithItsReason() {
        assertPoison(record("default/a", "{not json"), "not JSON");
        assertPoison(record("default/a", "[1,2]"), "not a JSON object");
        assertPoison(record("default/a", "{\"op\":\"upsert\",\"content\":\"x\"}"), "missing id");
        assertPoison(record("default/a", "{\"op\":\"upsert\",\"id\":\"a\"}"), "missing content");
        assertPoison(
                record("default/a", "{\"op\":\"upsert\",\"id\":\"a\",\"content\":\"" + "x".repeat(1001) + "\"}"),
                "content too large");
        assertPoison(
                record("default/a", "{\"op\":\"upsert\",\"id\":7,\"content\":\"x\"}"),
                "id must be a string, not number");
        assertPoison(
                record("default/a", "{\"op\":\"upsert\",\"id\":\"a\",\"content\":\"x\",\"metadata\":[1]}"),
                "metadata must be an object");
        assertPoison(
                record("default/a", "{\"op\":\"upsert\",\"id\":\"a\",\"content\":\"x\",\"version\":\"2\"}"),
                "version must be a non-negative integer");
        assertPoison(record("default/a", "{\"op\":\"merge\",\"id\":\"a\"}"), "op must be 'upsert' or 'delete'");
        assertPoison(record("default/b", "{\"op\":\"delete\",\"id\":\"a\"}"), "does not match collection/id");
        assertPoison(record(null, null), "a tombstone needs the key collection/id");
        assertPoison(
                record(null, "{\"op\":\"upsert\",\"id\":\"a\",\"content\":\"x\"}"),
                "the record has no key: it needs the key collection/id");
        assertPoison(record(null, "{\"op\":\"delete\",\"id\":\"a\"}"), "the record has no key");
        assertPoison(record("default/a", "{\"op\":\"delete\",\"id\":\"a\",\"colour\":1}"), "unknown field 'colour'");
    }

    @Test
    void titleAndSourceOverTheSchemasLengthAreRefusedNamingTheField() throws Exception {
        String longest = "x".repeat(4096);
        DocumentMessage m = decoder.decode(record(
                "default/a",
                "{\"op\":\"upsert\",\"id\":\"a\",\"content\":\"x\",\"title\":\"" + longest + "\",\"source\":\""
                        + longest + "\"}"));
        assertThat(m.title()).hasSize(4096);

        assertPoison(
                record(
                        "default/a",
                        "{\"op\":\"upsert\",\"id\":\"a\",\"content\":\"x\",\"title\":\"" + longest + "y\"}"),
                "title must have at most 4096 characters, not 4097");
        assertPoison(
                record("default/a", "{\"op\":\"delete\",\"id\":\"a\",\"source\":\"" + longest + "y\"}"),
                "source must have at most 4096 characters, not 4097");
    }

    /**
     * documents.schema.json and the codec agree: the same fields, the same lengths
     * (in characters, as JSON Schema counts them: one code point outside the BMP is one), the same
     * collection pattern, a wrong type refused, and null accepted exactly where the schema allows it.
     */
    @Test
    void theDecoderAcceptsAndRefusesWhatTheSchemaSays() throws Exception {
        JsonNode schema = JSON.readTree(Topic.class.getResourceAsStream(Topic.DOCUMENTS.schemaResource()));
        JsonNode properties = schema.get("properties");
        List<String> names = new ArrayList<>();
        properties.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactlyInAnyOrderElementsOf(DocumentCodec.FIELDS);
        assertThat(properties.at("/collection/pattern").asText()).isEqualTo("^[a-z0-9][a-z0-9_-]{0,62}$");
        assertThat(decoder.decode(record("a-b_9/x", "{\"op\":\"delete\",\"collection\":\"a-b_9\",\"id\":\"x\"}"))
                        .collection())
                .isEqualTo("a-b_9");
        assertPoison(
                record("A/x", "{\"op\":\"delete\",\"collection\":\"A\",\"id\":\"x\"}"),
                "collection 'A' is not a valid collection name");

        String clef = "\uD834\uDD1E"; // one character, two UTF-16 units
        for (String field : names) {
            JsonNode property = properties.get(field);
            if (property.has("maxLength")) {
                int max = property.get("maxLength").asInt();
                ObjectNode atMost = deletion(field, clef.repeat(max));
                decoder.decode(record(key(atMost), atMost.toString()));
                ObjectNode over = deletion(field, clef.repeat(max + 1));
                assertPoison(record(key(over), over.toString()), field + " must have");
            }
            ObjectNode withNull = deletion(field, null);
            if (allowsNull(property)) {
                decoder.decode(record("default/a", withNull.toString()));
            } else {
                assertThatThrownBy(() -> decoder.decode(record("default/a", withNull.toString())))
                        .as("null %s", field)
                        .isInstanceOf(InvalidMessageException.class);
            }
            for (JsonNode sample : List.of(JSON.readTree("\"s\""), JSON.readTree("7"), JSON.readTree("{}"))) {
                if (property.has("type") && !allows(property.get("type"), sample)) {
                    ObjectNode wrong = deletion(field, null).set(field, sample);
                    assertPoison(record("default/a", wrong.toString()), field + " must be");
                }
            }
        }
    }

    /** A valid delete of default/a with {@code field} set to {@code value}. */
    private static ObjectNode deletion(String field, String value) {
        ObjectNode doc = JSON.createObjectNode().put("op", "delete").put("id", "a");
        return doc.put(field, value);
    }

    private static String key(ObjectNode doc) {
        return doc.path("collection").asText("default") + "/" + doc.get("id").asText();
    }

    private static boolean allowsNull(JsonNode property) {
        if (property.has("const")) {
            return property.get("const").isNull();
        }
        if (property.has("enum")) {
            for (JsonNode v : property.get("enum")) {
                if (v.isNull()) {
                    return true;
                }
            }
            return false;
        }
        return allows(property.get("type"), NullNode.getInstance());
    }

    private static boolean allows(JsonNode type, JsonNode value) {
        String kind = switch (value.getNodeType()) {
            case STRING -> "string";
            case NUMBER -> value.isIntegralNumber() ? "integer" : "number";
            case OBJECT -> "object";
            case ARRAY -> "array";
            case BOOLEAN -> "boolean";
            default -> "null";
        };
        if (type.isTextual()) {
            return type.asText().equals(kind);
        }
        for (JsonNode t : type) {
            if (t.asText().equals(kind)) {
                return true;
            }
        }
        return false;
    }

    private void assertPoison(Raw r, String reason) {
        assertThatThrownBy(() -> decoder.decode(r))
                .isInstanceOf(InvalidMessageException.class)
                .hasMessageContaining(reason);
    }
}
