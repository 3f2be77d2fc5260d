package io.ragline.core.conversations;

import io.ragline.contracts.conversation.ConversationMessage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What {@code ragline conversations import} needs of {@link Conversations}' tables: sessions copied
 * with their own times, messages copied without touching their sessions, and the counts that check
 * the copy (rows found stored as they are, not rows in the tables).
 */
public final class ConversationImports {
    private ConversationImports() {}

    /** A session as another store kept it, copied by an import with its own times. */
    public record ImportedSession(
            String id, String title, String metadataJson, Instant createdAt, Instant updatedAt, String collection) {}

    /** Stores the sessions not stored yet, as they are (an import run again changes nothing); returns how many. */
    public static int importSessions(Connection c, List<ImportedSession> sessions) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("insert into conversation_sessions (id, title, metadata,"
                + " created_at, updated_at, collection) values (?, ?, ?::jsonb, coalesce(?, now()),"
                + " coalesce(?, ?, now()), ?) on conflict (id) do nothing")) {
            int stored = 0;
            for (ImportedSession session : sessions) {
                s.setString(1, session.id());
                s.setString(2, session.title());
                s.setString(3, session.metadataJson());
                setNullableTime(s, 4, session.createdAt());
                setNullableTime(s, 5, session.updatedAt());
                setNullableTime(s, 6, session.createdAt());
                s.setString(7, session.collection());
                stored += s.executeUpdate();
            }
            return stored;
        }
    }

    /**
     * Stores the messages not stored yet, in their order, into sessions that exist, leaving the
     * sessions as they are (an import keeps their times).
     */
    public static Conversations.Appended importMessages(Connection c, List<ConversationMessage> messages)
            throws SQLException {
        return Conversations.insertMessages(c, messages);
    }

    /** Which of these sessions are stored. */
    public static Set<String> storedSessions(Connection c, Collection<String> ids) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select id from conversation_sessions where id = any (?)")) {
            s.setArray(1, c.createArrayOf("text", ids.toArray()));
            Set<String> out = new HashSet<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    /** How many of these session ids are stored (each element counts once). */
    public static long countSessions(Connection c, List<String> ids) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select count(*) from unnest(?::text[]) k (id)"
                + " where exists (select 1 from conversation_sessions s where s.id = k.id)")) {
            s.setArray(1, c.createArrayOf("text", ids.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * How many of these messages are stored as they are: same session, id, role and content (one
     * stored under the same ids with another role or content, kept by an earlier write, does not
     * count). Each element counts once, so the count equals the list's size when all are stored.
     */
    public static long countMessages(Connection c, List<ConversationMessage> messages) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "select count(*) from unnest(?::text[], ?::text[], ?::text[],"
                        + " ?::text[]) k (session_id, id, role, content) where exists (select 1 from conversation_messages m"
                        + " where m.session_id = k.session_id and m.id = k.id and m.role = k.role and m.content = k.content)")) {
            s.setArray(
                    1,
                    c.createArrayOf(
                            "text",
                            messages.stream()
                                    .map(ConversationMessage::sessionId)
                                    .toArray()));
            s.setArray(
                    2,
                    c.createArrayOf(
                            "text",
                            messages.stream()
                                    .map(ConversationMessage::messageId)
                                    .toArray()));
            s.setArray(
                    3,
                    c.createArrayOf(
                            "text", messages.stream().map(m -> m.role().json()).toArray()));
            s.setArray(
                    4,
                    c.createArrayOf(
                            "text",
                            messages.stream().map(ConversationMessage::content).toArray()));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static void setNullableTime(PreparedStatement s, int index, Instant value) throws SQLException {
        if (value == null) {
            s.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            s.setObject(index, value.atOffset(ZoneOffset.UTC));
        }
    }
}
