package io.ragline.contracts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The first steps every codec takes, with the same reasons everywhere: the value must parse, must
 * be an object, may carry only the contract's fields, and its {@code schema_version}, when present,
 * must be 1. Also the one {@link ObjectMapper} of the contracts.
 */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    /** The value as a JSON object: refused with {@code not JSON: <the parser's first line>} or {@code not a JSON object}. */
    public static ObjectNode object(byte[] value) throws InvalidMessageException {
        JsonNode root;
        try {
            root = MAPPER.readTree(value);
        } catch (IOException e) {
            throw new InvalidMessageException("not JSON: " + firstLine(e));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidMessageException("not a JSON object");
        }
        return (ObjectNode) root;
    }

    /** Adds {@code unknown field 'x'} for each field not in {@code known}, and a wrong schema version. */
    public static void checkFields(ObjectNode root, Set<String> known, List<String> problems) {
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                problems.add("unknown field '" + name + "'");
            }
        }
        JsonNode schema = root.get("schema_version");
        if (schema != null && !(schema.isIntegralNumber() && schema.asInt() == 1)) {
            problems.add("schema_version must be 1");
        }
    }

    /** A text field: null when absent or null; a problem when required and absent, or not a string. */
    public static String text(JsonNode root, String field, List<String> problems, boolean required) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                problems.add("missing " + field);
            }
            return null;
        }
        if (!n.isTextual()) {
            problems.add(field + " must be a string, not " + kind(n));
            return null;
        }
        return n.asText();
    }

    /** An integer field: null when absent or null; a problem when required and absent, or not an integer. */
    public static Long integer(JsonNode root, String field, List<String> problems, boolean required) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                problems.add("missing " + field);
            }
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            problems.add(field + " must be an integer, not " + kind(n));
            return null;
        }
        return n.asLong();
    }

    /**
     * An object field as a map: empty when absent or null; a problem ({@code field must be an
     * object, not ...}) when it is another kind.
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> objectField(JsonNode root, String field, List<String> problems) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            return Map.of();
        }
        if (!n.isObject()) {
            problems.add(field + " must be an object, not " + kind(n));
            return Map.of();
        }
        return MAPPER.convertValue(n, Map.class);
    }

    /** Characters as JSON Schema's {@code maxLength} counts them: code points, not UTF-16 units. */
    public static int chars(String s) {
        return s.codePointCount(0, s.length());
    }

    /** Throws the problems, joined, if there are any. */
    public static void refuseIfAny(List<String> problems) throws InvalidMessageException {
        if (!problems.isEmpty()) {
            throw new InvalidMessageException(String.join("; ", problems));
        }
    }

    /** JSON text of a value built by a codec (cannot fail for trees and plain maps). */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not serialisable as JSON: " + e.getOriginalMessage(), e);
        }
    }

    public static String kind(JsonNode n) {
        return n.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    public static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }

    private static String firstLine(IOException e) {
        String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }
}
