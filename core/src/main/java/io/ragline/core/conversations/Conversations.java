package io.ragline.core.conversations;

import io.ragline.contracts.Json;
import io.ragline.contracts.conversation.ConversationMessage;
import io.ragline.contracts.conversation.ConversationMessage.Role;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.contracts.document.DocumentMessage;
import io.ragline.core.outbox.Outbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Conversation memory in Postgres (migration V22): sessions and their messages. The one home of
 * these queries: the ingest-worker's {@code conversations} consumer, the console's {@code
 * /api/v1/conversations} and {@code ragline conversations import/export} all call it. A message is
 * stored once per (session, id); a session's history is in the order its messages were stored.
 */
public final class Conversations {
    private static final String SESSION_COLUMNS = "s.id, s.seq, s.title, s.metadata::text, s.created_at, s.updated_at,"
            + " (select count(*) from conversation_messages m where m.session_id = s.id), s.collection";
    private static final DocumentCodec DOCUMENTS = new DocumentCodec(Integer.MAX_VALUE);

    /** The id prefix of the documents that hold a memory collection's messages: {@code conversation/<session>/<message>}. */
    public static final String DOCUMENT_PREFIX = "conversation/";

    private static final String MESSAGE_COLUMNS = "session_id, id, seq, role, content, metadata::text, created_at";

    private Conversations() {}

    /** A session as stored, with how many messages it has; {@code collection} its memory collection, or null. */
    public record Session(
            String id,
            long seq,
            String title,
            String metadataJson,
            Instant createdAt,
            Instant updatedAt,
            long messages,
            String collection) {}

    /** A message as stored; {@code seq} is its place in its session's history. */
    public record Message(
            String sessionId, String id, long seq, Role role, String content, String metadataJson, Instant createdAt) {}

    /** What an append did: messages stored, and those already there (same session and id). */
    public record Appended(int stored, int duplicates) {}

    /**
     * Stores {@code messages} in their order, in the caller's transaction: a session a message names
     * and that does not exist is created (with the message's {@code session} title, metadata and
     * memory collection); a message stored into a session with a memory collection is also published
     * as a document of it (see {@link #documentId});
     * a message whose session and id are already stored is left as it is. Each session touched has
     * its {@code updated_at} moved to now.
     */
    public static Appended append(Connection c, List<ConversationMessage> messages) throws SQLException {
        if (messages.isEmpty()) {
            return new Appended(0, 0);
        }
        Map<String, ConversationMessage> firstOfSession = new LinkedHashMap<>();
        messages.forEach(m -> firstOfSession.putIfAbsent(m.sessionId(), m));
        try (PreparedStatement s = c.prepareStatement("insert into conversation_sessions as s (id, title, metadata,"
                + " collection) values (?, ?, ?::jsonb, ?) on conflict (id) do update set updated_at = now()")) {
            for (ConversationMessage m : firstOfSession.values()) {
                s.setString(1, m.sessionId());
                s.setString(2, m.session() == null ? null : m.session().title());
                s.setString(
                        3,
                        Json.write(m.session() == null ? Map.of() : m.session().metadata()));
                s.setString(4, m.session() == null ? null : m.session().collection());
                s.addBatch();
            }
            s.executeBatch();
        }
        return insertMessages(c, messages);
    }

    static Appended insertMessages(Connection c, List<ConversationMessage> messages) throws SQLException {
        Map<String, Session> sessions = sessions(
                c, messages.stream().map(ConversationMessage::sessionId).toList());
        int stored = 0;
        try (PreparedStatement s =
                c.prepareStatement("insert into conversation_messages (session_id, id, role, content,"
                        + " metadata, created_at) values (?, ?, ?, ?, ?::jsonb, coalesce(?, now()))"
                        + " on conflict (session_id, id) do nothing")) {
            for (ConversationMessage m : messages) {
                s.setString(1, m.sessionId());
                s.setString(2, m.messageId());
                s.setString(3, m.role().json());
                s.setString(4, m.content());
                s.setString(5, Json.write(m.metadata()));
                if (m.createdAt() == null) {
                    s.setNull(6, Types.TIMESTAMP_WITH_TIMEZONE);
                } else {
                    s.setObject(6, m.createdAt());
                }
                if (s.executeUpdate() == 1) { // one at a time: seq follows the list's order
                    stored++;
                    remember(c, sessions.get(m.sessionId()), m);
                }
            }
        }
        return new Appended(stored, messages.size() - stored);
    }

    /**
     * A message stored in a session with a memory collection, published (through the outbox, in the
     * caller's transaction) as a document of that collection: the documents consumer chunks it and
     * asks for its embedding as for any document. Empty messages are not embedded.
     */
    private static void remember(Connection c, Session session, ConversationMessage m) throws SQLException {
        if (session == null || session.collection() == null || m.content().isBlank()) {
            return;
        }
        Map<String, Object> metadata = new LinkedHashMap<>(m.metadata());
        metadata.put("conversation_session", m.sessionId());
        metadata.put("conversation_message", m.messageId());
        metadata.put("conversation_role", m.role().json());
        Outbox.append(
                c,
                DOCUMENTS,
                new DocumentMessage(
                        DocumentMessage.Op.UPSERT,
                        session.collection(),
                        documentId(m.sessionId(), m.messageId()),
                        session.title(),
                        m.content(),
                        null,
                        metadata,
                        null));
    }

    /** The id of the document that holds a message in its session's memory collection. */
    public static String documentId(String sessionId, String messageId) {
        return DOCUMENT_PREFIX + sessionId + "/" + messageId;
    }

    private static Map<String, Session> sessions(Connection c, List<String> ids) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "select " + SESSION_COLUMNS + " from conversation_sessions s where s.id = any (?)")) {
            s.setArray(1, c.createArrayOf("text", ids.stream().distinct().toArray()));
            Map<String, Session> out = new HashMap<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    Session session = session(rs);
                    out.put(session.id(), session);
                }
            }
            return out;
        }
    }

    /** Creates a session; empty when one with this id exists (nothing changed then). */
    public static Optional<Session> create(
            Connection c, String id, String title, String metadataJson, String collection) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("insert into conversation_sessions (id, title, metadata,"
                + " collection) values (?, ?, ?::jsonb, ?) on conflict (id) do nothing")) {
            s.setString(1, id);
            s.setString(2, title);
            s.setString(3, metadataJson == null ? "{}" : metadataJson);
            s.setString(4, collection);
            if (s.executeUpdate() == 0) {
                return Optional.empty();
            }
        }
        return find(c, id);
    }

    public static Optional<Session> find(Connection c, String id) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("select " + SESSION_COLUMNS + " from conversation_sessions s where s.id = ?")) {
            s.setString(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(session(rs)) : Optional.empty();
            }
        }
    }

    /**
     * At most {@code limit} sessions, newest stored first, from before {@code beforeSeq} (null:
     * from the newest), whose metadata contains {@code metadataJson} (null: any).
     */
    public static List<Session> list(Connection c, Long beforeSeq, String metadataJson, int limit) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select " + SESSION_COLUMNS + " from conversation_sessions s"
                + " where (?::bigint is null or s.seq < ?) and (?::jsonb is null or s.metadata @> ?::jsonb)"
                + " order by s.seq desc limit ?")) {
            setNullableLong(s, 1, beforeSeq);
            setNullableLong(s, 2, beforeSeq);
            s.setString(3, metadataJson);
            s.setString(4, metadataJson);
            s.setInt(5, limit);
            List<Session> out = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(session(rs));
                }
            }
            return out;
        }
    }

    /**
     * Whether the session exists, holding it (FOR KEY SHARE) until the caller's transaction ends, so
     * that it cannot be deleted before the messages the caller appends next are stored.
     */
    public static boolean hold(Connection c, String id) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("select 1 from conversation_sessions where id = ? for key share")) {
            s.setString(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The messages of a session with these ids, as stored, in history order (ids not stored are left out). */
    public static List<Message> messages(Connection c, String sessionId, List<String> ids) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select " + MESSAGE_COLUMNS + " from conversation_messages"
                + " where session_id = ? and id = any (?) order by seq")) {
            s.setString(1, sessionId);
            s.setArray(2, c.createArrayOf("text", ids.toArray()));
            List<Message> out = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(message(rs));
                }
            }
            return out;
        }
    }

    /** Gives a session a new title (null clears it); false when there is no such session. */
    public static boolean rename(Connection c, String id, String title) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("update conversation_sessions set title = ?, updated_at = now() where id = ?")) {
            s.setString(1, title);
            s.setString(2, id);
            return s.executeUpdate() == 1;
        }
    }

    /**
     * Deletes a session and its messages, and the documents that hold them in its memory collection
     * (the SQL function {@code delete_conversation_session}, V22, the one home of a session's
     * deletion, which retention calls too); false when there is no such session.
     */
    public static boolean delete(Connection c, String id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select delete_conversation_session(?)")) {
            s.setString(1, id);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** At most {@code limit} messages of a session in order, after {@code afterSeq} (null: from the first). */
    public static List<Message> history(Connection c, String sessionId, Long afterSeq, int limit) throws SQLException {
        return messages(
                c,
                "select " + MESSAGE_COLUMNS + " from conversation_messages where session_id = ?"
                        + " and (?::bigint is null or seq > ?) order by seq limit ?",
                sessionId,
                afterSeq,
                limit,
                false);
    }

    /** The latest {@code count} messages of a session, in order (oldest of them first). */
    public static List<Message> latest(Connection c, String sessionId, int count) throws SQLException {
        return messages(
                c,
                "select " + MESSAGE_COLUMNS + " from conversation_messages where session_id = ?"
                        + " and (?::bigint is null or seq > ?) order by seq desc limit ?",
                sessionId,
                null,
                count,
                true);
    }

    private static List<Message> messages(
            Connection c, String sql, String sessionId, Long afterSeq, int limit, boolean reverse) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, sessionId);
            setNullableLong(s, 2, afterSeq);
            setNullableLong(s, 3, afterSeq);
            s.setInt(4, limit);
            List<Message> out = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(message(rs));
                }
            }
            if (reverse) {
                Collections.reverse(out);
            }
            return out;
        }
    }

    private static Message message(ResultSet rs) throws SQLException {
        return new Message(
                rs.getString(1),
                rs.getString(2),
                rs.getLong(3),
                Role.of(rs.getString(4)),
                rs.getString(5),
                rs.getString(6),
                instant(rs.getTimestamp(7)));
    }

    private static Session session(ResultSet rs) throws SQLException {
        return new Session(
                rs.getString(1),
                rs.getLong(2),
                rs.getString(3),
                rs.getString(4),
                instant(rs.getTimestamp(5)),
                instant(rs.getTimestamp(6)),
                rs.getLong(7),
                rs.getString(8));
    }

    private static void setNullableLong(PreparedStatement s, int index, Long value) throws SQLException {
        if (value == null) {
            s.setNull(index, Types.BIGINT);
        } else {
            s.setLong(index, value);
        }
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
