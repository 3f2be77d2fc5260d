package io.ragline.cli;

import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.Json;
import io.ragline.contracts.conversation.ConversationCodec;
import io.ragline.contracts.conversation.ConversationMessage;
import io.ragline.core.conversations.ConversationImports.ImportedSession;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import org.sqlite.SQLiteConfig;

/**
 * The SQLite database {@code ragline conversations import} copies: tables {@code sessions(id,
 * title, created_at, updated_at, metadata)} and {@code messages(id, session_id, role, content,
 * metadata, created_at)}, metadata as JSON text, times as ISO-8601 text (with an offset, or without
 * one for UTC, a space allowed for the 'T' as SQLite's datetime() writes it). Opened read-only. Each
 * message is checked as the {@code conversations} topic checks one (by its codec), so an import
 * stores exactly what the topic would.
 */
final class SqliteConversations implements AutoCloseable {
    private final Connection connection;

    private SqliteConversations(Connection connection) {
        this.connection = connection;
    }

    /** Opens {@code file} read-only, checking it has both tables with their columns. */
    static SqliteConversations open(Path file) throws SQLException {
        if (!Files.isRegularFile(file)) {
            throw new SQLException("no SQLite file at " + file);
        }
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath(), config.toProperties());
        SqliteConversations db = new SqliteConversations(c);
        try {
            // One read transaction: the counts and the rows copied are of the same snapshot, even
            // when the application that owns the file writes to it meanwhile.
            c.setAutoCommit(false);
            db.check("sessions", "id, title, created_at, updated_at, metadata");
            db.check("messages", "id, session_id, role, content, metadata, created_at");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return db;
    }

    private void check(String table, String columns) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.executeQuery("select " + columns + " from " + table + " limit 0").close();
        } catch (SQLException e) {
            throw new SQLException(
                    "the SQLite file needs a table " + table + "(" + columns + "): " + e.getMessage(), e);
        }
    }

    long count(String table) throws SQLException {
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery("select count(*) from " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A row read, or why it cannot be copied. */
    record Row<T>(T value, String problem) {}

    @FunctionalInterface
    interface Batch<T> {
        void accept(List<Row<T>> rows) throws SQLException;
    }

    /** Every session, in batches of {@code size}, with {@code collection} as memory collection (null: none). */
    void sessions(int size, String collection, Batch<ImportedSession> batch) throws SQLException {
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery(
                        "select id, title, metadata, created_at, updated_at from sessions order by rowid")) {
            // (the codec's rules for the title and metadata, in session(...))
            List<Row<ImportedSession>> rows = new ArrayList<>(size);
            while (rs.next()) {
                rows.add(session(rs, collection));
                if (rows.size() == size) {
                    batch.accept(rows);
                    rows = new ArrayList<>(size);
                }
            }
            if (!rows.isEmpty()) {
                batch.accept(rows);
            }
        }
    }

    /**
     * Every message, in batches, each session's in the order they were written: by their time as
     * SQLite reads it ({@code julianday}: offsets and both separators understood, so the order is
     * chronological, not textual), messages without a time after those with one, then by rowid.
     */
    void messages(int size, int maxContentBytes, Batch<ConversationMessage> batch) throws SQLException {
        ConversationCodec codec = new ConversationCodec(maxContentBytes);
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery("select session_id, id, role, content, metadata, created_at"
                        + " from messages order by julianday(created_at) is null, julianday(created_at), rowid")) {
            List<Row<ConversationMessage>> rows = new ArrayList<>(size);
            while (rs.next()) {
                rows.add(message(rs, codec));
                if (rows.size() == size) {
                    batch.accept(rows);
                    rows = new ArrayList<>(size);
                }
            }
            if (!rows.isEmpty()) {
                batch.accept(rows);
            }
        }
    }

    private static Row<ImportedSession> session(ResultSet rs, String collection) throws SQLException {
        String id = rs.getString(1);
        String where = "session " + (id == null ? "(no id)" : "'" + Json.abbreviate(id) + "'");
        String idProblem = id == null ? "has no id" : ConversationCodec.idProblem(id, true);
        if (idProblem != null) {
            return new Row<>(null, where + ": id " + idProblem);
        }
        String metadata = rs.getString(3);
        try {
            metadata = metadataObject(metadata);
            String problem = ConversationCodec.sessionProblem(rs.getString(2), metadata);
            if (problem != null) {
                return new Row<>(null, where + ": " + problem);
            }
            Instant created = time(rs.getString(4), "created_at");
            Instant updated = time(rs.getString(5), "updated_at");
            return new Row<>(new ImportedSession(id, rs.getString(2), metadata, created, updated, collection), null);
        } catch (IllegalArgumentException e) {
            return new Row<>(null, where + ": " + e.getMessage());
        }
    }

    private static Row<ConversationMessage> message(ResultSet rs, ConversationCodec codec) throws SQLException {
        String session = rs.getString(1);
        String id = rs.getString(2);
        String where = "message '" + Json.abbreviate(String.valueOf(id)) + "' of session '"
                + Json.abbreviate(String.valueOf(session)) + "'";
        try {
            var record = Json.MAPPER.createObjectNode();
            record.put("session_id", session);
            record.put("message_id", id);
            record.put("role", rs.getString(3));
            record.put("content", rs.getString(4));
            record.set("metadata", Json.MAPPER.readTree(metadataObject(rs.getString(5))));
            Instant created = time(rs.getString(6), "created_at");
            if (created != null) {
                record.put("created_at", created.toString());
            }
            return new Row<>(codec.decode(session, record.toString().getBytes(StandardCharsets.UTF_8)), null);
        } catch (InvalidMessageException | IllegalArgumentException | java.io.IOException e) {
            return new Row<>(null, where + ": " + e.getMessage());
        }
    }

    /** The metadata text as a JSON object's text ({} for none), or refused. */
    private static String metadataObject(String text) {
        if (text == null || text.isBlank()) {
            return "{}";
        }
        try {
            var node = Json.MAPPER.readTree(text);
            if (node != null && node.isObject()) {
                return node.toString();
            }
        } catch (java.io.IOException e) {
            // below
        }
        throw new IllegalArgumentException("metadata is not a JSON object");
    }

    /** An ISO-8601 time: with an offset, or without one for UTC; null for none. */
    static Instant time(String text, String column) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String t = text.trim().replace(' ', 'T');
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException withoutOffset) {
            try {
                return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(column + " '" + Json.abbreviate(text) + "' is not an ISO-8601 time");
            }
        }
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
