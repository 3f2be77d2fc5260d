package io.ragline.contracts.document;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.Json;
import io.ragline.contracts.MessageCodec;
import io.ragline.contracts.Topic;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code documents} contract (documents.schema.json), saying exactly what is wrong with a
 * record that breaks it: not JSON, a missing or mistyped field, a field too long, content too
 * large, no key or a key that does not match. A field given as null counts as left out. Whether
 * the collection exists is for the writer (it needs the database). A tombstone (null value) is a
 * delete of the document its key names.
 */
public final class DocumentCodec implements MessageCodec<DocumentMessage> {
    /** The collection name pattern of the schema (and of the collections table). */
    public static final Pattern COLLECTION = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    /** The fields of the contract; {@code properties} of the schema. */
    public static final Set<String> FIELDS =
            Set.of("schema_version", "op", "collection", "id", "title", "content", "source", "metadata", "version");

    public static final String DEFAULT_COLLECTION = "default";

    public static final String NO_KEY = "the record has no key: it needs the key collection/id";

    /** The schema's {@code maxLength} of {@code id}, in characters (code points). */
    public static final int MAX_ID_CHARS = 512;

    /** The schema's {@code maxLength} of {@code title} and {@code source}, in characters (code points). */
    public static final int MAX_TEXT_CHARS = 4096;

    private final int maxContentBytes;

    /** @param maxContentBytes {@code RAGLINE_DOCUMENT_MAX_BYTES}: the most UTF-8 bytes of content */
    public DocumentCodec(int maxContentBytes) {
        this.maxContentBytes = maxContentBytes;
    }

    @Override
    public Topic topic() {
        return Topic.DOCUMENTS;
    }

    @Override
    public String key(DocumentMessage message) {
        return message.key();
    }

    @Override
    public String encode(DocumentMessage m) {
        ObjectNode doc = Json.MAPPER.createObjectNode();
        doc.put("schema_version", 1);
        doc.put("op", m.op().json());
        doc.put("collection", m.collection());
        doc.put("id", m.id());
        if (m.title() != null) {
            doc.put("title", m.title());
        }
        if (m.content() != null) {
            doc.put("content", m.content());
        }
        if (m.source() != null) {
            doc.put("source", m.source());
        }
        if (m.metadata() != null && !m.metadata().isEmpty()) {
            doc.set("metadata", Json.MAPPER.valueToTree(m.metadata()));
        }
        if (m.version() != null) {
            doc.put("version", m.version());
        }
        return doc.toString();
    }

    @Override
    public DocumentMessage decode(String key, byte[] value) throws InvalidMessageException {
        if (value == null) {
            return tombstone(key);
        }
        if (value.length > maxContentBytes + 64 * 1024) {
            throw new InvalidMessageException("content too large: the record has " + value.length
                    + " bytes, the limit is " + maxContentBytes + " bytes of content");
        }
        ObjectNode root = Json.object(value);
        List<String> problems = new ArrayList<>();
        Json.checkFields(root, FIELDS, problems);
        String op = Json.text(root, "op", problems, true);
        DocumentMessage.Op parsedOp = null;
        if (op != null) {
            switch (op) {
                case "upsert" -> parsedOp = DocumentMessage.Op.UPSERT;
                case "delete" -> parsedOp = DocumentMessage.Op.DELETE;
                default -> problems.add("op must be 'upsert' or 'delete', not '" + Json.abbreviate(op) + "'");
            }
        }
        String collection = Json.text(root, "collection", problems, false);
        if (collection == null) {
            collection = DEFAULT_COLLECTION;
        } else if (!COLLECTION.matcher(collection).matches()) {
            problems.add("collection '" + Json.abbreviate(collection) + "' is not a valid collection name");
        }
        String id = Json.text(root, "id", problems, true);
        if (id != null && (id.isEmpty() || Json.chars(id) > MAX_ID_CHARS)) {
            problems.add("id must have 1 to " + MAX_ID_CHARS + " characters");
        }
        String title = Json.text(root, "title", problems, false);
        checkLength("title", title, problems);
        String source = Json.text(root, "source", problems, false);
        checkLength("source", source, problems);
        String content = Json.text(root, "content", problems, parsedOp == DocumentMessage.Op.UPSERT);
        if (content != null && content.getBytes(StandardCharsets.UTF_8).length > maxContentBytes) {
            problems.add("content too large: more than " + maxContentBytes + " bytes");
        }
        Map<String, Object> metadata = Json.objectField(root, "metadata", problems);
        Long version = null;
        JsonNode v = root.get("version");
        if (v != null && !v.isNull()) {
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                problems.add("version must be a non-negative integer, not " + Json.kind(v));
            } else {
                version = v.asLong();
            }
        }
        if (key == null) {
            // Without its key a document's records spread over the partitions, and updates
            // without a version could then be applied out of order.
            problems.add(NO_KEY);
        } else if (problems.isEmpty() && !key.equals(collection + "/" + id)) {
            problems.add("the key '" + Json.abbreviate(key) + "' does not match collection/id '" + collection + "/"
                    + Json.abbreviate(id) + "'");
        }
        Json.refuseIfAny(problems);
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

    private static DocumentMessage tombstone(String key) throws InvalidMessageException {
        int slash = key == null ? -1 : key.indexOf('/');
        if (slash <= 0 || slash == key.length() - 1) {
            throw new InvalidMessageException("a tombstone needs the key collection/id, not "
                    + (key == null ? "no key" : "'" + Json.abbreviate(key) + "'"));
        }
        String collection = key.substring(0, slash);
        if (!COLLECTION.matcher(collection).matches()) {
            throw new InvalidMessageException(
                    "tombstone key: '" + Json.abbreviate(collection) + "' is not a collection name");
        }
        String id = key.substring(slash + 1);
        if (Json.chars(id) > MAX_ID_CHARS) {
            throw new InvalidMessageException("tombstone key: the id must have 1 to " + MAX_ID_CHARS + " characters");
        }
        return new DocumentMessage(DocumentMessage.Op.DELETE, collection, id, null, null, null, Map.of(), null);
    }

    private static void checkLength(String field, String value, List<String> problems) {
        if (value != null && Json.chars(value) > MAX_TEXT_CHARS) {
            problems.add(field + " must have at most " + MAX_TEXT_CHARS + " characters, not " + Json.chars(value));
        }
    }
}
