package io.ragline.core.conversations;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.contracts.conversation.ConversationMessage;
import io.ragline.contracts.conversation.ConversationMessage.NewSession;
import io.ragline.contracts.conversation.ConversationMessage.Role;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.contracts.document.DocumentMessage;
import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link Conversations} on a real Postgres as a worker login: a message is stored once, a memory
 * session's messages become documents through the outbox (as the documents contract encodes them),
 * and deleting the session writes each document's delete after its upsert, encoded by the SQL
 * function exactly as {@link DocumentCodec} would.
 */
class ConversationsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final DocumentCodec DOCUMENTS = new DocumentCodec(1 << 20);

    @Test
    void aMemorySessionsMessagesBecomeDocumentsOnceAndItsDeleteRemovesThemInOrder() throws Exception {
        db.execute("insert into collections (name) values ('memory')");
        NewSession memory = new NewSession("Trip", Map.of(), "memory");
        List<ConversationMessage> turns = List.of(
                message("m1", Role.USER, "Where do we fly from?", memory),
                message("m2", Role.ASSISTANT, "From Berlin.", null),
                message("m3", Role.TOOL, "   ", null));
        try (Connection c = db.connect()) {
            assertThat(Conversations.append(c, turns)).isEqualTo(new Conversations.Appended(3, 0));
            assertThat(Conversations.append(c, List.of(message("m2", Role.ASSISTANT, "Changed.", null))))
                    .isEqualTo(new Conversations.Appended(0, 1));
            assertThat(Conversations.history(c, "trip", null, 10))
                    .extracting(Conversations.Message::content)
                    .containsExactly("Where do we fly from?", "From Berlin.", "   ");

            assertThat(Conversations.delete(c, "trip")).isTrue();
            assertThat(Conversations.delete(c, "trip")).isFalse();
            assertThat(Conversations.find(c, "trip")).isEmpty();
        }
        assertThat(db.queryValue("select count(*) from conversation_messages")).isEqualTo(0L);

        List<String> seen = new ArrayList<>();
        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement(
                        "select key, payload::text from outbox where topic = 'documents' and key like 'memory/%' order by id");
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                DocumentMessage d =
                        DOCUMENTS.decode(rs.getString(1), rs.getString(2).getBytes(StandardCharsets.UTF_8));
                assertThat(DOCUMENTS.key(d)).isEqualTo(rs.getString(1));
                if (d.op() == DocumentMessage.Op.DELETE) {
                    assertThat(d)
                            .as("the SQL function's delete is the codec's")
                            .isEqualTo(DOCUMENTS.decode(
                                    d.collection() + "/" + d.id(),
                                    DOCUMENTS
                                            .encode(new DocumentMessage(
                                                    DocumentMessage.Op.DELETE,
                                                    "memory",
                                                    d.id(),
                                                    null,
                                                    null,
                                                    null,
                                                    Map.of(),
                                                    null))
                                            .getBytes(StandardCharsets.UTF_8)));
                } else {
                    assertThat(d.title()).isEqualTo("Trip");
                    assertThat(d.metadata()).containsEntry("conversation_session", "trip");
                }
                seen.add(d.op() + " " + d.id());
            }
        }
        assertThat(seen)
                .containsExactly(
                        "UPSERT conversation/trip/m1",
                        "UPSERT conversation/trip/m2",
                        "DELETE conversation/trip/m1",
                        "DELETE conversation/trip/m2",
                        "DELETE conversation/trip/m3");
    }

    @Test
    void aDeleteWaitsForAnAppendUnderWayAndThenTakesItsMessagesAndDocumentsToo() throws Exception {
        db.execute("insert into collections (name) values ('memory2')");
        NewSession memory = new NewSession("Race", Map.of(), "memory2");
        try (Connection appender = db.connect();
                Connection deleter = db.connect()) {
            assertThat(Conversations.append(appender, List.of(raced("r1", memory)))
                            .stored())
                    .isEqualTo(1);
            appender.setAutoCommit(false);
            assertThat(Conversations.hold(appender, "race")).isTrue();
            Conversations.append(appender, List.of(raced("r2", null)));

            java.util.concurrent.CompletableFuture<Boolean> delete =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        try {
                            return Conversations.delete(deleter, "race");
                        } catch (java.sql.SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    });
            // The delete is blocked on the session row the append holds, for as long as it holds it.
            org.awaitility.Awaitility.await()
                    .during(java.time.Duration.ofMillis(500))
                    .atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> !delete.isDone());
            appender.commit();

            assertThat(delete.get(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
        assertThat(db.queryValue("select count(*) from conversation_messages where session_id = 'race'"))
                .isEqualTo(0L);
        assertThat(db.queryValue("select string_agg(payload->>'op' || ' ' || (payload->>'id'), ', ' order by id)"
                        + " from outbox where topic = 'documents' and key like 'memory2/%'"))
                .as("the append's document is deleted after it was published, none outlives the session")
                .isEqualTo("upsert conversation/race/r1, upsert conversation/race/r2,"
                        + " delete conversation/race/r1, delete conversation/race/r2");
    }

    private static ConversationMessage raced(String id, NewSession session) {
        return new ConversationMessage("race", id, Role.USER, "turn " + id, Map.of(), null, session);
    }

    private static ConversationMessage message(String id, Role role, String content, NewSession session) {
        return new ConversationMessage("trip", id, role, content, Map.of(), null, session);
    }
}
