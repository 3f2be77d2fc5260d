package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
    static final PostgresSchema db = PostgresSchema.unmigrated();

    static DatabaseUrl url;

    @BeforeAll
    static void url() {
        url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        known = migrations(0).pendingCount();
        assertThat(known).isPositive();
    }

    @Test
    @Order(1)
    void fourMigratorsStartingAtOnceAllSucceedAndApplyEachMigrationOnce() throws Exception {
        int migrators = 4;
        CyclicBarrier start = new CyclicBarrier(migrators);
        ExecutorService executor = Executors.newFixedThreadPool(migrators);
        try {
            List<Future<Migrations.Outcome>> results = new ArrayList<>();
            for (int i = 0; i < migrators; i++) {
                Migrations migrations = migrations(i);
                Callable<Migrations.Outcome> migrate = () -> {
                    start.await();
                    return migrations.migrate();
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
    void aMigratorWaitsWhileAnotherHoldsTheMigrationLock() throws Exception {
        try (Connection holder = db.connect()) {
            try (Statement s = holder.createStatement()) {
                s.execute("select pg_advisory_lock(" + (int) (Migrations.LOCK_KEY >>> 32) + ", hashtext('" + db.schema()
                        + "'))");
            }
            CompletableFuture<Migrations.Outcome> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return migrations(9).migrate();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> !waiting.isDone());
            try (Statement s = holder.createStatement()) {
                s.execute("select pg_advisory_unlock_all()");
            }
            assertThat(waiting.get(30, TimeUnit.SECONDS).applied()).isZero();
        }
    }

    @Test
    @Order(2)
    void migratingAgainChangesNothing() throws Exception {
        Migrations.Outcome again = migrations(0).migrate();

        assertThat(again.applied()).isZero();
        assertThat(migrations(1).upToDate()).isTrue();
    }

    @Test
    @Order(3)
    void theDataModelHasEveryTableAndTheDefaultCollection() throws Exception {
        for (String table : List.of(
                "collections",
                "documents",
                "chunks",
                "chunk_embeddings",
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
    @Order(20)
    void aNewCollectionGetsItsOwnIndexAndKeepsItsDimensions() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into collections (name, dimensions) values ('small', 3)");
            assertThat(db.queryValue("select count(*) from pg_indexes where schemaname = '" + db.schema()
                            + "' and indexdef like '%vector(3)%'"))
                    .isEqualTo(1L);
            assertThatThrownBy(() -> s.execute("update collections set dimensions = 4 where name = 'small'"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("model and dimensions of a collection change only through a migration");
            assertThatThrownBy(() -> s.execute(
                            "update collections set embedding_model = 'bge-small-en-v1.5' where" + " name = 'small'"))
                    .as("the model too: it is the serving generation's copy")
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("to onnx/bge-small-en-v1.5 (3)");
        }
    }

    @Test
    @Order(3)
    void searchUsesThePartialHnswIndexOfTheCollection() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("set enable_seqscan = off");
            // The query of search_documents.
            var rs = s.executeQuery("explain select ch.id, d.title from chunk_embeddings e join chunks ch on ch.id ="
                    + " e.chunk_id join documents d on d.id = ch.document_id where e.collection_id = 1 and e.generation = 1 and d.status"
                    + " <> 'deleted' order by e.embedding::vector(384) <=> " + vector(1, 0) + "::vector(384) limit 5");
            StringBuilder plan = new StringBuilder();
            while (rs.next()) {
                plan.append(rs.getString(1)).append('\n');
            }
            assertThat(plan.toString()).contains("chunk_embeddings_c1_idx");
        }
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
            s.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select d.id, d.collection_id, 0, 0, d.title || ' text', 2 from documents d");
            s.execute("insert into chunk_embeddings (chunk_id, collection_id, embedding, model)"
                    + " select ch.id, ch.collection_id, case d.external_id when 'near' then " + vector(1.0, 0.1)
                    + " else " + vector(-1.0, 0.1)
                    + " end, 'm' from chunks ch join documents d on d.id = ch.document_id");
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
                    .hasMessageContaining(
                            "query vector has 3 dimensions, generation 1 of collection \"default\" (model all-MiniLM-L6-v2-q) has 384");
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
            assertThatThrownBy(() -> s.execute("with ch as (insert into chunks (document_id, collection_id,"
                            + " document_version, seq, content, token_count) select id, collection_id, 0, 1, 'x', 1"
                            + " from documents limit 1 returning id, collection_id) insert into chunk_embeddings"
                            + " (chunk_id, collection_id, embedding, model) select id, collection_id, '[1,2,3]', 'm'"
                            + " from ch"))
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

    private static Migrations migrations(int n) {
        return new Migrations(url, db.schema(), "migrations-it-" + n);
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
