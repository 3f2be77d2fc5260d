package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MigrationsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final List<HikariDataSource> pools = new ArrayList<>();

    @BeforeAll
    static void pools() {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        for (int i = 0; i < 4; i++) {
            pools.add(Database.pool(url, db.schema(), 3, "migrations-it-" + i, null));
        }
        known = new Migrations(pools.get(0), db.schema()).pendingCount();
        assertThat(known).isPositive();
    }

    @AfterAll
    static void close() {
        pools.forEach(HikariDataSource::close);
    }

    @Test
    @Order(1)
    void fourMigratorsStartingAtOnceAllSucceedAndApplyEachMigrationOnce() throws Exception {
        CyclicBarrier start = new CyclicBarrier(pools.size());
        ExecutorService executor = Executors.newFixedThreadPool(pools.size());
        try {
            List<Future<Migrations.Outcome>> results = new ArrayList<>();
            for (HikariDataSource pool : pools) {
                Callable<Migrations.Outcome> migrate = () -> {
                    start.await();
                    return new Migrations(pool, db.schema()).migrate();
                };
                results.add(executor.submit(migrate));
            }
            int applied = 0;
            for (Future<Migrations.Outcome> f : results) {
                applied += f.get().applied();
            }
            assertThat(applied).isEqualTo(countMigrations());
        } finally {
            executor.shutdownNow();
        }
        assertThat(db.queryValue("select count(*) from flyway_schema_history where success and version is not null"))
                .isEqualTo((long) countMigrations());
    }

    @Test
    @Order(2)
    void migratingAgainChangesNothing() throws Exception {
        Migrations.Outcome again = new Migrations(pools.get(0), db.schema()).migrate();

        assertThat(again.applied()).isZero();
        assertThat(new Migrations(pools.get(1), db.schema()).upToDate()).isTrue();
    }

    @Test
    @Order(3)
    void theDataModelHasEveryTableAndTheDefaultCollection() throws Exception {
        for (String table : List.of(
                "collections",
                "documents",
                "chunks",
                "claude_events",
                "training_jobs",
                "model_metrics",
                "models",
                "outbox")) {
            assertThat(db.queryValue("select to_regclass('" + db.schema() + "." + table + "') is not null"))
                    .as(table)
                    .isEqualTo(true);
        }
        assertThat(db.queryValue("select dimensions from collections where name = 'default'"))
                .isEqualTo(384);
        assertThat(db.queryValue("select count(*) from pg_indexes where schemaname = '" + db.schema()
                        + "' and indexdef like '%USING hnsw%vector_cosine_ops%'"))
                .isEqualTo(1L);
    }

    @Test
    @Order(4)
    void searchDocumentsRanksChunksByCosineSimilarityWithinACollection() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into documents (collection_id, external_id, title, metadata)"
                    + " select id, 'near', 'Near', '{\"lang\":\"en\"}' from collections where name = 'default'");
            s.execute("insert into documents (collection_id, external_id, title, metadata)"
                    + " select id, 'far', 'Far', '{\"lang\":\"de\"}' from collections where name = 'default'");
            s.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count,"
                    + " embedding) select d.id, d.collection_id, 0, 0, d.title || ' text', 2,"
                    + " case d.external_id when 'near' then " + vector(1.0, 0.1) + " else " + vector(-1.0, 0.1)
                    + " end from documents d");
            var rs = s.executeQuery("select document_id, similarity from search_documents(" + vector(1.0, 0.0)
                    + ", 5, 'default', '{}')");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("near");
            assertThat(rs.getDouble(2)).isGreaterThan(0.99);
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("far");

            var filtered = s.executeQuery("select document_id from search_documents(" + vector(1.0, 0.0)
                    + ", 5, 'default', '{\"lang\":\"de\"}')");
            assertThat(filtered.next()).isTrue();
            assertThat(filtered.getString(1)).isEqualTo("far");
            assertThat(filtered.next()).isFalse();
        }
    }

    @Test
    @Order(5)
    void searchRejectsAQueryOfTheWrongDimensionAndAnUnknownCollection() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("select * from search_documents('[1,2,3]', 5)"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("query vector has 3 dimensions, collection \"default\" has 384");
            assertThatThrownBy(() -> s.executeQuery("select * from search_documents(" + vector(1, 0) + ", 5, 'nope')"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("unknown collection \"nope\"");
        }
    }

    @Test
    @Order(6)
    void anEmbeddingOfTheWrongDimensionCannotEnterACollection() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("update chunks set embedding = '[1,2,3]'"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("expected 384 dimensions");
        }
    }

    @Test
    @Order(7)
    void anOutboxInsertRingsTheDoorbellOncePerTransaction() throws Exception {
        try (Connection listener = db.connect();
                Connection writer = db.connect()) {
            try (Statement s = listener.createStatement()) {
                s.execute("listen \"" + db.schema() + ".outbox\"");
            }
            writer.setAutoCommit(false);
            try (Statement s = writer.createStatement()) {
                s.execute("insert into outbox (topic, key, payload) values ('t', 'k1', '{\"a\":1}')");
                s.execute("insert into outbox (topic, key, payload) values ('t', 'k2', '{\"a\":2}'), ('t','k3',null)");
            }
            writer.commit();

            PGNotification[] first = listener.unwrap(PGConnection.class)
                    .getNotifications((int) Duration.ofSeconds(5).toMillis());
            assertThat(first).hasSize(1);
            assertThat(first[0].getName()).isEqualTo(db.schema() + ".outbox");
            assertThat(first[0].getParameter()).isEmpty();
            assertThat(listener.unwrap(PGConnection.class).getNotifications(300))
                    .isNullOrEmpty();
        }
        assertThat(db.queryValue("select count(*) from outbox")).isEqualTo(3L);
    }

    @Test
    @Order(8)
    void sqlClientsMayInsertEventsWithOnlyTheEssentials() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into claude_events (source, event_type, payload) values ('cron', 'tick', '{}')");
        }
        assertThat(db.queryValue("select status || ':' || (delivery_id <> '') from claude_events"))
                .isEqualTo("received:true");
    }

    private static String vector(double first, double second) {
        StringBuilder sb = new StringBuilder("'[").append(first).append(',').append(second);
        for (int i = 2; i < 384; i++) {
            sb.append(",0");
        }
        return sb.append("]'::vector").toString();
    }

    private static int known;

    private static int countMigrations() {
        return known;
    }
}
