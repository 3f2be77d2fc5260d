package io.ragline.ingest.document;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.core.consumer.JsonRecords;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.consumer.RecordDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Validates a {@code documents} record against contracts/documents.schema.json and says exactly
 * what is wrong when it does not: not JSON, a missing or mistyped field, a field too long, content
 * too large, no key or a key that does not match. A field given as null counts as left out.
 * Whether the collection exists is checked by the writer (it needs the database). A tombstone
 * (null value) is a delete of the document its key names.
 */
public final class DocumentDecoder implements RecordDecoder<DocumentMessage> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern COLLECTION = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    /** The fields of the contract; {@code properties} of the schema. */
    static final Set<String> FIELDS =
            Set.of("schema_version", "op", "collection", "id", "title", "content", "source", "metadata", "version");

    static final String NO_KEY = "the record has no key: it needs the key collection/id";

    /** The schema's {@code maxLength} of {@code id}, in characters (code points). */
    static final int MAX_ID_CHARS = 512;

    /** The schema's {@code maxLength} of {@code title} and {@code source}, in characters (code points). */
    static final int MAX_TEXT_CHARS = 4096;

    private final int maxContentBytes;

    public DocumentDecoder(int maxContentBytes) {
        this.maxContentBytes = maxContentBytes;
    }

    @Override
    public DocumentMessage decode(ConsumerRecord<byte[], byte[]> record) throws PoisonRecordException {
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        if (record.value() == null) {
            return tombstone(key);
        }
        if (record.value().length > maxContentBytes + 64 * 1024) {
            throw new PoisonRecordException("content too large: the record has " + record.value().length
                    + " bytes, the limit is " + maxContentBytes + " bytes of content");
        }
        ObjectNode root = JsonRecords.object(record.value());
        List<String> problems = new ArrayList<>();
        JsonRecords.checkFields(root, FIELDS, problems);
        String op = text(root, "op", problems, true);
        DocumentMessage.Op parsedOp = null;
        if (op != null) {
            switch (op) {
                case "upsert" -> parsedOp = DocumentMessage.Op.UPSERT;
                case "delete" -> parsedOp = DocumentMessage.Op.DELETE;
                default -> problems.add("op must be 'upsert' or 'delete', not '" + op + "'");
            }
        }
        String collection = text(root, "collection", problems, false);
        if (collection == null) {
            collection = "default";
        } else if (!COLLECTION.matcher(collection).matches()) {
            problems.add("collection '" + collection + "' is not a valid collection name");
        }
        String id = text(root, "id", problems, true);
        if (id != null && (id.isEmpty() || chars(id) > MAX_ID_CHARS)) {
            problems.add("id must have 1 to " + MAX_ID_CHARS + " characters");
        }
        String title = text(root, "title", problems, false);
        checkLength("title", title, problems);
        String source = text(root, "source", problems, false);
        checkLength("source", source, problems);
        String content = text(root, "content", problems, parsedOp == DocumentMessage.Op.UPSERT);
        if (content != null && content.getBytes(StandardCharsets.UTF_8).length > maxContentBytes) {
            problems.add("content too large: more than " + maxContentBytes + " bytes");
        }
        Map<String, Object> metadata = Map.of();
        JsonNode meta = root.get("metadata");
        if (meta != null && !meta.isNull()) {
            if (!meta.isObject()) {
                problems.add("metadata must be an object, not " + kind(meta));
            } else {
                metadata = JSON.convertValue((ObjectNode) meta, Map.class);
            }
        }
        Long version = null;
        JsonNode v = root.get("version");
        if (v != null && !v.isNull()) {
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                problems.add("version must be a non-negative integer, not " + kind(v));
            } else {
                version = v.asLong();
            }
        }
        if (key == null) {
            // Without its key a document's records spread over the partitions, and updates
            // without a version could then be applied out of order.
            problems.add(NO_KEY);
        } else if (problems.isEmpty() && !key.equals(collection + "/" + id)) {
            problems.add("the key '" + abbreviate(key) + "' does not match collection/id '" + collection + "/"
                    + abbreviate(id) + "'");
        }
        if (!problems.isEmpty()) {
            throw new PoisonRecordException(String.join("; ", problems));
        }
        return new DocumentMessage(
                parsedOp,
                collection,
                id,
                title,
                parsedOp == DocumentMessage.Op.UPSERT ? content : null,
                source,
                metadata,
                version);
    }

    private static DocumentMessage tombstone(String key) throws PoisonRecordException {
        int slash = key == null ? -1 : key.indexOf('/');
        if (slash <= 0 || slash == key.length() - 1) {
            throw new PoisonRecordException("a tombstone needs the key collection/id, not "
                    + (key == null ? "no key" : "'" + abbreviate(key) + "'"));
        }
        String collection = key.substring(0, slash);
        if (!COLLECTION.matcher(collection).matches()) {
            throw new PoisonRecordException("tombstone key: '" + abbreviate(collection) + "' is not a collection name");
        }
        String id = key.substring(slash + 1);
        if (chars(id) > MAX_ID_CHARS) {
            throw new PoisonRecordException("tombstone key: the id must have 1 to " + MAX_ID_CHARS + " characters");
        }
        return new DocumentMessage(DocumentMessage.Op.DELETE, collection, id, null, null, null, Map.of(), null);
    }

    private static String text(JsonNode root, String field, List<String> problems, boolean required) {
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

    private static void checkLength(String field, String value, List<String> problems) {
        if (value != null && chars(value) > MAX_TEXT_CHARS) {
            problems.add(field + " must have at most " + MAX_TEXT_CHARS + " characters, not " + chars(value));
        }
    }

    /** Characters as JSON Schema's {@code maxLength} counts them: code points, not UTF-16 units. */
    private static int chars(String s) {
        return s.codePointCount(0, s.length());
    }

    private static String kind(JsonNode n) {
        return n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }
}
