package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Database;
import io.ragline.dispatcher.outbox.OutboxClaimSql;
import io.ragline.dispatcher.outbox.OutboxRow;
import io.ragline.dispatcher.outbox.OutboxStore;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OutboxStoreIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @AfterEach
    void empty() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("delete from outbox");
        }
    }

    @Test
    void urgentRowsGoFirstButTheRowsOfOneKeyKeepTheirOrder() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload, priority) values"
                    + " ('t', 'slow', '{\"n\":1}', 0), ('t', 'k1', '{\"n\":1}', 0), ('t', 'k1', '{\"n\":2}', 0),"
                    + " ('t', 'slow', '{\"n\":2}', 0), ('t', 'urgent', '{\"n\":1}', 5), ('t', 'k1', '{\"n\":3}', 9)");
        }
        try (var pool = Database.pool(url, db.schema(), 2, "test", null)) {
            List<OutboxRow> rows = new OutboxStore(pool).next(100, 1000);

            assertThat(rows)
                    .extracting(r -> r.key() + r.payload().replaceAll("\\D", ""))
                    .containsExactly("k11", "k12", "k13", "urgent1", "slow1", "slow2");
        }
    }

    /**
     * What is held back is left out by both claims: the in-order one when no row is urgent, or when
     * every urgent row is held back (by its topic, its key or its id: such a row is not among the rows
     * the ranking would rank), and the ranked one when an urgent row is free.
     */
    @ParameterizedTest(name = "urgent rows: {0}")
    @ValueSource(strings = {"none", "held back", "held back and free"})
    void bothClaimsLeaveOutTheTopicsKeysAndRowsHeldBack(String urgent) throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        boolean held = !urgent.equals("none");
        boolean free = urgent.equals("held back and free");
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload, priority) values ('t', 'a', '{\"n\":1}', 0),"
                    + " ('t', 'b', '{\"n\":1}', 0), ('u', 'a', '{\"n\":1}', " + (held ? 2 : 0) + "),"
                    + " ('t', 'c', '{\"n\":1}', " + (held ? 6 : 0) + "), ('t', 'a', '{\"n\":2}', 0),"
                    + " ('t', 'd', '{\"n\":1}', 0)"
                    + (held ? ", ('z', 'a', '{\"n\":1}', 7), ('t', 'b', '{\"n\":2}', 4)" : "")
                    + (free ? ", ('t', 'e', '{\"n\":1}', 3)" : ""));
        }
        long heldRow = (long) db.queryValue("select id from outbox where key = 'c'");
        try (var pool = Database.pool(url, db.schema(), 2, "test", null)) {
            OutboxStore store = new OutboxStore(pool);
            List<OutboxRow> rows =
                    store.next(List.of(), 100, 1000, List.of("u", "z"), List.of("t\u0000b"), List.of(heldRow));

            assertThat(rows)
                    .extracting(r -> r.topic() + r.key() + r.payload().replaceAll("\\D", ""))
                    .containsExactlyElementsOf(
                            free ? List.of("te1", "ta1", "ta2", "td1") : List.of("ta1", "ta2", "td1"));
            assertThat(store.rankedLast()).as("ranked").isEqualTo(free);

            if (free) { // the ranked claim's own probe leaves out what is held back as well
                insert("('t', 'f', '{\"n\":1}', 0)");
                List<OutboxRow> next = store.next(
                        rows.stream().map(OutboxRow::id).toList(),
                        100,
                        1000,
                        List.of("u", "z"),
                        List.of("t\u0000b"),
                        List.of(heldRow));
                assertThat(next).extracting(OutboxRow::key).containsExactly("f");
                assertThat(store.rankedLast())
                        .as("ranked at once: the claim before saw e urgent")
                        .isTrue();
                assertThat(store.ranking())
                        .as("every urgent row left is held back: the next claim reads in id order")
                        .isFalse();
            }
        }
    }

    /**
     * The probe for an urgent row walks at most {@value OutboxClaimSql#URGENT_WALK} urgent rows: past
     * that many, all held back, it answers that the claim must rank (always a right answer).
     */
    @Test
    void pastAThousandUrgentRowsHeldBackTheClaimRanks() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload, priority) select 'z', 'k' || n, '{}', 1"
                    + " from generate_series(1, " + OutboxClaimSql.URGENT_WALK + ") n");
        }
        insert("('t', 'a', '{\"n\":1}', 0)");
        try (var pool = Database.pool(url, db.schema(), 2, "test", null)) {
            OutboxStore store = new OutboxStore(pool);
            List<OutboxRow> rows = store.next(List.of(), 100, 5000, List.of("z"), List.of(), List.of());
            assertThat(rows).extracting(OutboxRow::key).containsExactly("a");
            assertThat(store.rankedLast()).isTrue();

            db.execute("delete from outbox where topic = 'z' and key = 'k1'");
            insert("('t', 'b', '{\"n\":1}', 0)");
            OutboxStore fresh = new OutboxStore(pool);
            assertThat(fresh.next(ids(rows), 100, 5000, List.of("z"), List.of(), List.of()))
                    .extracting(OutboxRow::key)
                    .containsExactly("b");
            assertThat(fresh.rankedLast())
                    .as("999 urgent rows, all held back: in id order")
                    .isFalse();
        }
    }

    /**
     * One store through the paths a relay takes: an urgent row found by the in-order read (ranked in
     * a second round trip), the next claim ranked at once with the delete of the batch before it, and
     * in id order again once no row is urgent.
     */
    @Test
    void claimsRankWhileARowIsUrgentAndReadInIdOrderOnceNoneIs() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        try (var pool = Database.pool(url, db.schema(), 2, "test", null)) {
            OutboxStore store = new OutboxStore(pool);
            insert("('t', 'a', '{\"n\":1}', 0), ('t', 'b', '{\"n\":1}', 0), ('t', 'c', '{\"n\":1}', 3)");
            List<OutboxRow> first = store.next(List.of(), 2, 1000, List.of(), List.of(), List.of());
            assertThat(first).extracting(OutboxRow::key).containsExactly("c", "a");
            assertThat(store.rankedLast()).isTrue();

            insert("('t', 'd', '{\"n\":1}', 0), ('t', 'e', '{\"n\":1}', 5)");
            List<OutboxRow> second = store.next(ids(first), 2, 1000, List.of(), List.of(), List.of());
            assertThat(second).extracting(OutboxRow::key).containsExactly("e", "b");
            assertThat(store.rankedLast()).isTrue();

            insert("('t', 'f', '{\"n\":1}', 0)");
            List<OutboxRow> third = store.next(ids(second), 5, 1000, List.of(), List.of(), List.of());
            assertThat(third).extracting(OutboxRow::key).containsExactly("d", "f");
            assertThat(store.rankedLast())
                    .as("ranked at once: the claim before still saw an urgent row (e, not deleted yet)")
                    .isTrue();

            insert("('t', 'g', '{\"n\":1}', 0)");
            List<OutboxRow> fourth = store.next(ids(third), 5, 1000, List.of(), List.of(), List.of());
            assertThat(fourth).extracting(OutboxRow::key).containsExactly("g");
            assertThat(store.rankedLast()).as("no row urgent: read in id order").isFalse();

            List<OutboxRow> last = store.next(ids(fourth), 5, 1000, List.of(), List.of(), List.of());
            assertThat(last).isEmpty();
            assertThat((long) db.queryValue("select count(*) from outbox")).isZero();
        }
    }

    @Test
    void aClaimDeletesThePublishedRowsAndReadsTheNextBatchAfterTheDelete() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        insertRows(5);
        try (var pool = Database.pool(url, db.schema(), 2, "test", null)) {
            OutboxStore store = new OutboxStore(pool);
            List<OutboxRow> first = store.next(List.of(), 3, 1000, List.of(), List.of(), List.of());
            List<Long> published = first.stream().map(OutboxRow::id).toList();

            List<OutboxRow> second = store.next(published, 3, 1000, List.of(), List.of(), List.of());

            assertThat(second).hasSize(2).extracting(OutboxRow::id).doesNotContainAnyElementsOf(published);
            assertThat((long) db.queryValue("select count(*) from outbox")).isEqualTo(2);
        }
    }

    @Test
    void aClaimThatFailsDeletesNothing() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        insertRows(3);
        try (var pool = Database.pool(url, db.schema(), 2, "test", null)) {
            OutboxStore store = new OutboxStore(pool);
            List<Long> published =
                    store.next(100, 1000).stream().map(OutboxRow::id).toList();

            // A negative LIMIT fails the read after the delete ran, in the same implicit transaction.
            assertThatThrownBy(() -> store.next(published, 3, -1, List.of(), List.of(), List.of()))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("LIMIT");

            assertThat((long) db.queryValue("select count(*) from outbox")).isEqualTo(3);
        }
    }

    /**
     * A server-side prepared statement turns generic after five executions when its estimate is no
     * worse, and a generic plan tests each row against a whole batch's id list one id at a time
     * (OutboxStore.plannedEachTime): the claim and the delete never leave one behind.
     */
    @Test
    void theClaimAndTheDeleteAreNeverCachedOnTheServerWhereTheirPlanWouldTurnGeneric() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        insertRows(40);
        try (var pool = Database.pool(url, db.schema(), 1, "test", null)) {
            OutboxStore store = new OutboxStore(pool);
            List<Long> published = List.of();
            for (int i = 0; i < 8; i++) {
                List<OutboxRow> rows = store.next(published, 2, 1000, List.of(), List.of(), List.of(-1L, -2L));
                published = rows.stream().map(OutboxRow::id).toList();
                store.delete(List.of(-3L, -4L));
            }

            try (Connection c = pool.getConnection();
                    Statement s = c.createStatement();
                    var rs =
                            s.executeQuery("select statement from pg_prepared_statements where statement ~ 'outbox'")) {
                List<String> cached = new java.util.ArrayList<>();
                while (rs.next()) {
                    cached.add(rs.getString(1));
                }
                assertThat(cached)
                        .as("statements on the outbox prepared on the server")
                        .isEmpty();
            }
            assertThat((long) db.queryValue("select count(*) from outbox")).isEqualTo(40 - 14);
        }
    }

    private static void insert(String values) throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload, priority) values " + values);
        }
    }

    private static List<Long> ids(List<OutboxRow> rows) {
        return rows.stream().map(OutboxRow::id).toList();
    }

    private static void insertRows(int n) throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload) select 't', 'k' || (i % 2), jsonb_build_object('n', i)"
                    + " from generate_series(1, " + n + ") i");
        }
    }
}
