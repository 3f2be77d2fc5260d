package io.ragline.cli;

import io.ragline.contracts.conversation.ConversationMessage;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.Env;
import io.ragline.core.conversations.ConversationImports;
import io.ragline.core.conversations.ConversationImports.ImportedSession;
import io.ragline.core.conversations.Conversations;
import io.ragline.ingest.IngestSettings;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ragline conversations export|import}: conversation memory out as fine-tuning data (JSONL in
 * the chat format) and in from a SQLite database, through {@link Conversations}.
 */
@Command(
        name = "conversations",
        mixinStandardHelpOptions = true,
        description = "Export conversations as fine-tuning data, or import them from SQLite.",
        subcommands = {ConversationsCommand.Export.class, ConversationsCommand.Import.class})
final class ConversationsCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(
            name = "export",
            mixinStandardHelpOptions = true,
            description = "Write sessions as JSONL, one {\"messages\":[{\"role\",\"content\"}...]} per line, the chat"
                    + " format fine-tuning tools take (the view conversation_training_data).")
    static final class Export implements Callable<Integer> {
        @Option(names = "--output", defaultValue = "-", description = "The file to write (default: standard output).")
        String output;

        @Option(
                names = "--since",
                description = "Only sessions updated since this time (ISO-8601; UTC without an offset).")
        String since;

        @Option(names = "--metadata", description = "Only sessions whose metadata contains this JSON object.")
        String metadata;

        @Option(
                names = "--min-turns",
                defaultValue = "2",
                description = "Only sessions with at least this many messages (default ${DEFAULT-VALUE}).")
        int minTurns;

        @Override
        public Integer call() {
            Env env = Env.load();
            Instant from = null;
            if (since != null) {
                try {
                    from = SqliteConversations.time(since, "--since");
                } catch (IllegalArgumentException e) {
                    env.problem(e.getMessage());
                }
            }
            if (metadata != null && !jsonObject(metadata)) {
                env.problem("--metadata must be a JSON object, such as {\"team\":\"support\"}");
            }
            if (minTurns < 1) {
                env.problem("--min-turns must be at least 1");
            }
            Instant sinceTime = from;
            return CollectionsCommand.withConnection("conversations export", env, c -> {
                try {
                    long n = export(c, sinceTime);
                    System.err.printf(Locale.ROOT, "exported %d sessions%n", n);
                    return 0;
                } catch (IOException e) {
                    System.err.println("ragline conversations export: " + e.getMessage());
                    return 1;
                }
            });
        }

        /**
         * Streams the rows into the output; a file is written beside its name and moved into place
         * only when complete, so a failed export leaves no truncated file where a good one was.
         */
        private long export(Connection c, Instant sinceTime) throws SQLException, IOException {
            Path target = output.equals("-") ? null : Path.of(output);
            Path partial = target == null ? null : target.resolveSibling(target.getFileName() + ".partial");
            c.setAutoCommit(false); // a cursor: rows stream, not all held in memory
            long n = 0;
            try (PreparedStatement s = c.prepareStatement("select conversation::text from conversation_training_data"
                            + " where (?::timestamptz is null or updated_at >= ?) and (?::jsonb is null or metadata @>"
                            + " ?::jsonb) and turns >= ? order by created_at, session_id");
                    Writer out = target == null
                            ? standardOutput()
                            : Files.newBufferedWriter(partial, StandardCharsets.UTF_8)) {
                s.setFetchSize(500);
                Timestamp t = sinceTime == null ? null : Timestamp.from(sinceTime);
                s.setTimestamp(1, t);
                s.setTimestamp(2, t);
                s.setString(3, metadata);
                s.setString(4, metadata);
                s.setInt(5, minTurns);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        out.write(rs.getString(1));
                        out.write('\n');
                        n++;
                    }
                }
                c.commit();
            } catch (SQLException | IOException | RuntimeException e) {
                if (partial != null) {
                    Files.deleteIfExists(partial);
                }
                throw e;
            }
            if (target != null) {
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return n;
        }

        private static Writer standardOutput() {
            return new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8)) {
                @Override
                public void close() throws IOException {
                    flush(); // standard output stays open
                }
            };
        }

        private static boolean jsonObject(String text) {
            try {
                return io.ragline.contracts.Json.MAPPER.readTree(text)
                        instanceof com.fasterxml.jackson.databind.node.ObjectNode;
            } catch (IOException e) {
                return false;
            }
        }
    }

    @Command(
            name = "import",
            mixinStandardHelpOptions = true,
            description = "Copy sessions and messages from a SQLite database, idempotently (run twice, it changes"
                    + " nothing), then print the counts on both sides; exits 1 when they differ.")
    static final class Import implements Callable<Integer> {
        private static final int BATCH = 1000;

        @Option(
                names = "--sqlite",
                required = true,
                description = "The SQLite file: tables sessions(id, title, created_at, updated_at, metadata) and"
                        + " messages(id, session_id, role, content, metadata, created_at).")
        Path sqlite;

        @Option(
                names = "--collection",
                description = "A collection the imported sessions' messages are embedded into (conversation memory,"
                        + " searchable by meaning); none by default.")
        String collection;

        private int maxContentBytes;

        @Override
        public Integer call() {
            Env env = Env.load();
            maxContentBytes = IngestSettings.from(env).maxContentBytes(); // as the topic and the API take
            return CollectionsCommand.withConnection("conversations import", env, c -> {
                if (collection != null && CollectionCatalog.stored(c, collection) == null) {
                    System.err.println("ragline conversations import: no collection named '" + collection
                            + "' (ragline collections list)");
                    return 2;
                }
                try (SqliteConversations source = SqliteConversations.open(sqlite)) {
                    return copy(source, c);
                }
            });
        }

        private int copy(SqliteConversations source, Connection c) throws SQLException {
            long sessionsThere = source.count("sessions");
            long messagesThere = source.count("messages");
            List<String> problems = new ArrayList<>();
            long[] sessionsHere = {0};
            long[] stored = {0, 0};
            c.setAutoCommit(false);
            ProgressBar sessionsBar = new ProgressBar("sessions", sessionsThere);
            long[] done = {0};
            source.sessions(BATCH, collection, rows -> {
                List<ImportedSession> sessions = new ArrayList<>();
                rows.forEach(r -> accept(r, sessions, problems));
                stored[0] += ConversationImports.importSessions(c, sessions);
                sessionsHere[0] += ConversationImports.countSessions(
                        c, sessions.stream().map(ImportedSession::id).toList());
                c.commit();
                done[0] += rows.size();
                sessionsBar.set(done[0], sessionsThere);
            });
            sessionsBar.done();
            ProgressBar messagesBar = new ProgressBar("messages", messagesThere);
            long[] messagesHere = {0};
            done[0] = 0;
            source.messages(BATCH, maxContentBytes, rows -> {
                List<ConversationMessage> messages = new ArrayList<>();
                rows.forEach(r -> accept(r, messages, problems));
                List<ConversationMessage> known = new ArrayList<>();
                java.util.Set<String> sessions = ConversationImports.storedSessions(
                        c,
                        messages.stream()
                                .map(ConversationMessage::sessionId)
                                .distinct()
                                .toList());
                for (ConversationMessage m : messages) {
                    // A message of a session the file does not have would fail the batch's foreign key.
                    if (sessions.contains(m.sessionId())) {
                        known.add(m);
                    } else {
                        problems.add("message '" + m.messageId() + "' of session '" + m.sessionId()
                                + "': the session is in neither the file's sessions nor PostgreSQL");
                    }
                }
                stored[1] += ConversationImports.importMessages(c, known).stored();
                long same = ConversationImports.countMessages(c, known);
                if (same < known.size()) {
                    problems.add((known.size() - same) + " messages of this file are stored already with another role"
                            + " or content (the same session and message id, from another source or an earlier"
                            + " version of the file): the stored ones were kept");
                }
                messagesHere[0] += same;
                c.commit();
                done[0] += rows.size();
                messagesBar.set(done[0], messagesThere);
            });
            messagesBar.done();
            problems.stream().limit(20).forEach(p -> System.err.println("not copied: " + p));
            if (problems.size() > 20) {
                System.err.printf(Locale.ROOT, "... and %d more not copied%n", problems.size() - 20);
            }
            System.out.printf(Locale.ROOT, "%-9s %10s %12s %10s%n", "", "SQLITE", "POSTGRESQL", "NEW");
            System.out.printf(
                    Locale.ROOT, "%-9s %10d %12d %10d%n", "sessions", sessionsThere, sessionsHere[0], stored[0]);
            System.out.printf(
                    Locale.ROOT, "%-9s %10d %12d %10d%n", "messages", messagesThere, messagesHere[0], stored[1]);
            if (sessionsThere != sessionsHere[0] || messagesThere != messagesHere[0]) {
                System.err.println("ragline conversations import: the counts differ (see above): " + problems.size()
                        + " rows could not be copied");
                return 1;
            }
            return 0;
        }

        private static <T> void accept(SqliteConversations.Row<T> row, List<T> into, List<String> problems) {
            if (row.problem() != null) {
                problems.add(row.problem());
            } else {
                into.add(row.value());
            }
        }
    }
}
