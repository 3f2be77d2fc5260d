package io.ragline.contracts.conversation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.Json;
import io.ragline.contracts.MessageCodec;
import io.ragline.contracts.Topic;
import io.ragline.contracts.conversation.ConversationMessage.NewSession;
import io.ragline.contracts.conversation.ConversationMessage.Role;
import io.ragline.contracts.document.DocumentCodec;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code conversations} contract (conversations.schema.json), naming every problem of a record
 * at once (for the dead-letter header). The key is the session id, so that a session's messages
 * share a partition and are stored in the order they were sent.
 */
public final class ConversationCodec implements MessageCodec<ConversationMessage> {
    /** The fields of the contract; {@code properties} of the schema. */
    public static final Set<String> FIELDS = Set.of(
            "schema_version", "session_id", "message_id", "role", "content", "metadata", "created_at", "session");

    private static final Set<String> SESSION_FIELDS = Set.of("title", "metadata", "collection");

    /** The schema's {@code maxLength} of session and message ids, in characters (code points). */
    public static final int MAX_ID_CHARS = 200;

    /** The schema's {@code maxLength} of a session's title. */
    public static final int MAX_TITLE_CHARS = 4096;

    /** The schema's pattern of {@code created_at}: RFC 3339 with an offset, seconds and fraction optional. */
    private static final Pattern TIMESTAMP = Pattern.compile(
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})");

    private static final String NUL = "%s must have no NUL character (PostgreSQL cannot store one)";

    private final int maxContentBytes;

    /** @param maxContentBytes {@code RAGLINE_DOCUMENT_MAX_BYTES}: the most UTF-8 bytes of content */
    public ConversationCodec(int maxContentBytes) {
        this.maxContentBytes = maxContentBytes;
    }

    @Override
    public Topic topic() {
        return Topic.CONVERSATIONS;
    }

    @Override
    public String key(ConversationMessage m) {
        return m.sessionId();
    }

    @Override
    public String encode(ConversationMessage m) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("schema_version", 1);
        n.put("session_id", m.sessionId());
        n.put("message_id", m.messageId());
        n.put("role", m.role().json());
        n.put("content", m.content());
        if (!m.metadata().isEmpty()) {
            n.set("metadata", Json.MAPPER.valueToTree(m.metadata()));
        }
        if (m.createdAt() != null) {
            n.put("created_at", DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(m.createdAt()));
        }
        if (m.session() != null) {
            ObjectNode s = n.putObject("session");
            if (m.session().title() != null) {
                s.put("title", m.session().title());
            }
            if (!m.session().metadata().isEmpty()) {
                s.set("metadata", Json.MAPPER.valueToTree(m.session().metadata()));
            }
            if (m.session().collection() != null) {
                s.put("collection", m.session().collection());
            }
        }
        return n.toString();
    }

    @Override
    public ConversationMessage decode(String key, byte[] value) throws InvalidMessageException {
        if (value == null) {
            throw new InvalidMessageException(
                    "a tombstone is not a conversation message (delete a session through the API)");
        }
        if (value.length > maxContentBytes + 64 * 1024) {
            throw new InvalidMessageException("content too large: the record has " + value.length
                    + " bytes, the limit is " + maxContentBytes + " bytes of content");
        }
        ObjectNode root = Json.object(value);
        List<String> problems = new ArrayList<>();
        Json.checkFields(root, FIELDS, problems);
        String sessionId = id(root, "session_id", problems, true);
        String messageId = id(root, "message_id", problems, false);
        String roleText = Json.text(root, "role", problems, true);
        Role role = roleText == null ? null : Role.of(roleText);
        if (roleText != null && role == null) {
            problems.add(
                    "role must be 'system', 'user', 'assistant' or 'tool', not '" + Json.abbreviate(roleText) + "'");
        }
        String content = Json.text(root, "content", problems, true);
        if (content != null && content.getBytes(StandardCharsets.UTF_8).length > maxContentBytes) {
            problems.add("content too large: more than " + maxContentBytes + " bytes");
        }
        if (content != null && content.indexOf('\0') >= 0) {
            problems.add(NUL.formatted("content"));
        }
        Map<String, Object> metadata = Json.objectField(root, "metadata", problems);
        JsonNode meta = root.get("metadata");
        if (meta != null && meta.toString().contains("\\u0000")) {
            problems.add(NUL.formatted("metadata"));
        }
        OffsetDateTime createdAt = timestamp(root, problems);
        NewSession session = session(root, problems);
        if (key == null) {
            problems.add("the record has no key: it needs the key session_id");
        } else if (sessionId != null && !key.equals(sessionId)) {
            problems.add("the key '" + Json.abbreviate(key) + "' does not match session_id '"
                    + Json.abbreviate(sessionId) + "'");
        }
        Json.refuseIfAny(problems);
        return new ConversationMessage(sessionId, messageId, role, content, metadata, createdAt, session);
    }

    private static String id(JsonNode root, String field, List<String> problems, boolean session) {
        String id = Json.text(root, field, problems, true);
        if (id != null) {
            String problem = idProblem(id, session);
            if (problem != null) {
                problems.add(field + " " + problem);
                return null;
            }
        }
        return id;
    }

    /**
     * Why {@code id} cannot be a session's ({@code session}) or a message's id, or null when it can:
     * 1 to 200 characters, no control character, and no '/' in a session id (the id of a memory
     * document, {@code conversation/<session>/<message>}, must name one message only; and a session's
     * id is a path segment of the API).
     */
    public static String idProblem(String id, boolean session) {
        if (id.isEmpty() || Json.chars(id) > MAX_ID_CHARS) {
            return "must have 1 to " + MAX_ID_CHARS + " characters";
        }
        if (id.codePoints().anyMatch(Character::isISOControl)) {
            return "must have no control character";
        }
        if (session && id.indexOf('/') >= 0) {
            return "must have no '/'";
        }
        return null;
    }

    /** Why a session's title or metadata (JSON text) cannot be stored, or null when they can. */
    public static String sessionProblem(String title, String metadataJson) {
        if (title != null && Json.chars(title) > MAX_TITLE_CHARS) {
            return "title must have at most " + MAX_TITLE_CHARS + " characters";
        }
        if (title != null && title.indexOf('\0') >= 0) {
            return NUL.formatted("title");
        }
        if (metadataJson != null && metadataJson.contains("\\u0000")) {
            return NUL.formatted("metadata");
        }
        return null;
    }

    private static OffsetDateTime timestamp(JsonNode root, List<String> problems) {
        String text = Json.text(root, "created_at", problems, false);
        if (text == null) {
            return null;
        }
        if (!TIMESTAMP.matcher(text).matches()) {
            problems.add("created_at must be an RFC 3339 timestamp with an offset (2026-12-05T10:15:30Z), not '"
                    + Json.abbreviate(text) + "'");
            return null;
        }
        try {
            return OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        } catch (DateTimeParseException e) {
            problems.add("created_at '" + Json.abbreviate(text) + "' is not a valid date and time");
            return null;
        }
    }

    private static NewSession session(ObjectNode root, List<String> problems) {
        JsonNode s = root.get("session");
        if (s == null || s.isNull()) {
            return null;
        }
        if (!s.isObject()) {
            problems.add("session must be an object, not " + Json.kind(s));
            return null;
        }
        s.fieldNames().forEachRemaining(name -> {
            if (!SESSION_FIELDS.contains(name)) {
                problems.add("unknown field 'session." + name + "'");
            }
        });
        String title = Json.text(s, "title", problems, false);
        JsonNode meta = s.get("metadata");
        String sessionProblem = sessionProblem(title, meta == null ? null : meta.toString());
        if (sessionProblem != null) {
            problems.add("session." + sessionProblem);
        }
        String collection = Json.text(s, "collection", problems, false);
        if (collection != null && !DocumentCodec.COLLECTION.matcher(collection).matches()) {
            problems.add("session.collection '" + Json.abbreviate(collection) + "' is not a valid collection name");
        }
        return new NewSession(title, Json.objectField(s, "metadata", problems), collection);
    }
}
