package io.ragline.core.consumer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The first steps every decoder of a JSON topic takes, with the same dead-letter reasons
 * everywhere: the value must parse, must be an object, may carry only the contract's fields, and
 * its {@code schema_version}, when present, must be 1.
 */
public final class JsonRecords {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonRecords() {}

    /**
     * The value as a JSON object. Poison: {@code not JSON: <the parser's first line>} or {@code not
     * a JSON object}.
     */
    public static ObjectNode object(byte[] value) throws PoisonRecordException {
        JsonNode root;
        try {
            root = JSON.readTree(value);
        } catch (IOException e) {
            throw new PoisonRecordException("not JSON: " + firstLine(e));
        }
        if (root == null || !root.isObject()) {
            throw new PoisonRecordException("not a JSON object");
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

    private static String firstLine(IOException e) {
        String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }
}
