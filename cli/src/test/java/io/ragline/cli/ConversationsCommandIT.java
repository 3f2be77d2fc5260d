package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ragline conversations import --sqlite} and {@code export} as real processes against a
 * SQLite file made here and a real Postgres (worker login): 50 sessions and 2,000 messages copied
 * with equal counts, a second run that changes nothing, a file with bad rows that exits 1 naming
 * them, and an export that a JSON parser reads back with the same turns in the same order.
 */
class ConversationsCommandIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void aSqliteHistoryImportsWithEqualCountsTwiceWithoutDuplicatesAndExportsTheSameTurns() throws Exception {
        Path file = dir.resolve("chat.db");
        Map<String, List<String[]>> written = sqlite(file, 50, 40, false);

        JavaProcess first = CliProcess.start(db.env(), "conversations", "import", "--sqlite", file.toString());
        assertThat(first.waitFor(120)).as(first.stderr()).isZero();
        assertThat(first.stdout())
                .containsPattern("sessions +50 +50 +50")
                .containsPattern("messages +2000 +2000 +2000");
        assertThat(first.stderr()).contains("messages [").contains("2000/2000");
        assertThat(db.queryValue("select count(*) from conversation_messages where session_id like 's%'"))
                .isEqualTo(2000L);
        assertThat(db.queryValue("select title || ' ' || (metadata->>'team') || ' '"
                        + " || to_char(created_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI')"
                        + " from conversation_sessions where id = 's7'"))
                .isEqualTo("Session 7 team-1 2026-01-08 09:00");

        JavaProcess again = CliProcess.start(db.env(), "conversations", "import", "--sqlite", file.toString());
        assertThat(again.waitFor(120)).as(again.stderr()).isZero();
        assertThat(again.stdout()).containsPattern("sessions +50 +50 +0").containsPattern("messages +2000 +2000 +0");
        assertThat(db.queryValue("select count(*) from conversation_messages where session_id like 's%'"))
                .isEqualTo(2000L);
        assertThat(db.queryValue("select count(*) from conversation_sessions where id like 's%'"))
                .isEqualTo(50L);

        Path out = dir.resolve("train.jsonl");
        JavaProcess export = CliProcess.start(
                db.env(), "conversations", "export", "--output", out.toString(), "--metadata", "{\"team\":\"team-1\"}");
        assertThat(export.waitFor(120)).as(export.stderr()).isZero();
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        assertThat(lines).hasSize(25); // the odd sessions are team-1's
        for (String line : lines) {
            JsonNode turns = JSON.readTree(line).get("messages");
            String session = sessionOf(turns.get(1).get("content").asText());
            List<String[]> expected = written.get(session);
            assertThat(turns).hasSize(expected.size());
            for (int i = 0; i < expected.size(); i++) {
                assertThat(turns.get(i).get("role").asText()).isEqualTo(expected.get(i)[0]);
                assertThat(turns.get(i).get("content").asText()).isEqualTo(expected.get(i)[1]);
            }
        }
        assertThat(db.queryValue("select count(*) from conversation_pairs where session_id like 's%'"))
                .as("every assistant reply after a user message, for pgml.tune(task => 'conversation')")
                .isEqualTo(50L * 19);
        assertThat(db.queryValue("select system from conversation_pairs where session_id = 's3' limit 1"))
                .isEqualTo("You answer questions of session 3.");
    }

    @Test
    void aFileWithRowsThatCannotBeCopiedExitsOneNamingThem() throws Exception {
        Path file = dir.resolve("bad.db");
        sqlite(file, 2, 4, true);

        JavaProcess run = CliProcess.start(db.env(), "conversations", "import", "--sqlite", file.toString());
        assertThat(run.waitFor(120)).isEqualTo(1);
        assertThat(run.stderr())
                .contains("not copied: message 'bad-role' of session 'b0': role must be")
                .contains("not copied: message 'orphan' of session 'nowhere': the session is in neither")
                .contains("the counts differ");
        assertThat(run.stdout()).containsPattern("messages +10 +8 +8");

        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
                Statement s = c.createStatement()) {
            s.execute("update messages set content = content || ' (edited)' where id = 'b0-m1'");
        }
        JavaProcess edited = CliProcess.start(db.env(), "conversations", "import", "--sqlite", file.toString());
        assertThat(edited.waitFor(120)).isEqualTo(1);
        assertThat(edited.stderr()).contains("1 messages of this file are stored already with another role or content");
        assertThat(edited.stdout()).containsPattern("messages +10 +7 +0");
        assertThat(db.queryValue("select content from conversation_messages where id = 'b0-m1'"))
                .isEqualTo("turn 1 of session b0");

        JavaProcess missing = CliProcess.start(
                db.env(),
                "conversations",
                "import",
                "--sqlite",
                dir.resolve("no.db").toString());
        assertThat(missing.waitFor(60)).isEqualTo(1);
        assertThat(missing.stderr()).contains("no SQLite file at");
    }

    /** Writes the file: each session a system message then alternating user and assistant turns. */
    private static Map<String, List<String[]>> sqlite(Path file, int sessions, int perSession, boolean bad)
            throws Exception {
        Map<String, List<String[]>> written = new LinkedHashMap<>();
        String prefix = bad ? "b" : "s";
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            try (Statement s = c.createStatement()) {
                s.execute("create table sessions (id text primary key, title text, created_at text, updated_at text,"
                        + " metadata text)");
                s.execute("create table messages (id text primary key, session_id text, role text, content text,"
                        + " metadata text, created_at text)");
            }
            c.setAutoCommit(false);
            try (PreparedStatement session = c.prepareStatement("insert into sessions values (?, ?, ?, ?, ?)");
                    PreparedStatement message = c.prepareStatement(
                            "insert into messages (id, session_id, role, content, metadata, created_at) values (?, ?, ?, ?, ?, ?)")) {
                for (int i = 0; i < sessions; i++) {
                    String id = prefix + i;
                    session.setString(1, id);
                    session.setString(2, "Session " + i);
                    session.setString(3, String.format("2026-01-%02d 09:00:00", i % 28 + 1));
                    session.setString(4, String.format("2026-02-%02dT10:00:00Z", i % 28 + 1));
                    session.setString(5, "{\"team\": \"" + (bad ? "bad" : "team-" + i % 2) + "\"}");
                    session.executeUpdate();
                    List<String[]> turns = new ArrayList<>();
                    for (int t = 0; t < perSession; t++) {
                        String role = t == 0 ? "system" : t % 2 == 1 ? "user" : "assistant";
                        String content = t == 0
                                ? "You answer questions of session " + i + "."
                                : "turn " + t + " of session " + id;
                        turns.add(new String[] {role, content});
                    }
                    // Written newest first: the time, not the order of the rows, orders a session's turns.
                    for (int t = perSession - 1; t >= 0; t--) {
                        message.setString(1, id + "-m" + t);
                        message.setString(2, id);
                        message.setString(3, turns.get(t)[0]);
                        message.setString(4, turns.get(t)[1]);
                        message.setString(5, t % 5 == 0 ? null : "{\"n\": " + t + "}");
                        message.setString(6, String.format("2026-01-%02dT09:%02d:00+00:00", i % 28 + 1, t));
                        message.executeUpdate();
                    }
                    written.put(id, turns);
                }
            }
            if (bad) {
                try (Statement s = c.createStatement()) {
                    s.execute("insert into messages (id, session_id, role, content, created_at) values"
                            + " ('bad-role', 'b0', 'robot', 'x', '2026-01-01T10:00:00Z')");
                    s.execute("insert into messages (id, session_id, role, content, created_at) values"
                            + " ('orphan', 'nowhere', 'user', 'x', '2026-01-01T10:00:00Z')");
                }
            }
            c.commit();
        }
        return written;
    }

    private static String sessionOf(String content) {
        return content.substring(content.lastIndexOf(' ') + 1);
    }
}
