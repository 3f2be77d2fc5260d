package io.ragline.embedding.migration;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.collections.CollectionMigrations;
import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.collections.CollectionSettings;
import io.ragline.core.collections.SearchIndex;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Database;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * The switcher under the embedding-worker's least-privilege login against real Postgres with
 * pgvector: a complete migration of an IVFFlat collection, whose index only the schema owner may
 * build, is not tried; it is said once at WARN with the command to run and shown by a gauge, and
 * switched by the next check after the owner's {@code collections reindex}.
 */
class MigrationSwitcherIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final int DIMENSIONS = 384;
    private final List<ILoggingEvent> warnings = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            if (e.getLevel() == Level.WARN) {
                warnings.add(e);
            }
        }
    };

    @AfterEach
    void detach() {
        logger().detachAppender(capture);
    }

    @Test
    void anIvfflatMigrationWaitingForItsIndexIsSaidOnceAndSwitchesAfterTheOwnersReindex() throws Exception {
        capture.start();
        logger().addAppender(capture);
        CollectionRegistry registry = new CollectionRegistry(ModelCatalog.bundled());
        int id;
        try (Connection owner = db.connect()) {
            id = registry.create(
                            owner,
                            "lists",
                            new CollectionSettings(
                                    null,
                                    "all-MiniLM-L6-v2",
                                    null,
                                    null,
                                    null,
                                    null,
                                    new SearchIndex("l2", "ivfflat", null, null, null, 1, null, null, null)))
                    .id();
            db.execute("insert into documents (collection_id, external_id, title, status) values (" + id
                    + ", 'a', 'T', 'embedded')");
            db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select id, collection_id, 0, 0, 'text', 1 from documents where collection_id = " + id);
            writeVectors(id, 1, "all-MiniLM-L6-v2");
            new CollectionMigrations(ModelCatalog.bundled()).migrate(owner, "lists", null, "bge-small-en-v1.5", null);
        }
        writeVectors(id, 2, "bge-small-en-v1.5");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        MigrationSwitcher switcher = new MigrationSwitcher(null, meters);

        try (Connection worker = workerConnection()) {
            switcher.check(worker, () -> true);
            switcher.check(worker, () -> true);
        }
        assertThat(servingModel()).as("not switched without its index").isEqualTo("all-MiniLM-L6-v2");
        assertThat(warnings)
                .as("said once, however often checked")
                .singleElement()
                .extracting(ILoggingEvent::getFormattedMessage)
                .asString()
                .contains("collection 'lists'")
                .contains("run `ragline collections reindex lists`");
        assertThat(waiting(meters)).isEqualTo(1.0);
        assertThat(unindexed(meters))
                .as("generation 1 serves with vectors and no IVFFlat index: searched by exact scans")
                .isEqualTo(1.0);

        try (Connection owner = db.connect()) {
            registry.reindex(owner, "lists");
        }
        try (Connection worker = workerConnection()) {
            switcher.check(worker, () -> true);
        }
        assertThat(servingModel()).isEqualTo("bge-small-en-v1.5");
        assertThat(waiting(meters)).isEqualTo(0.0);
        assertThat(unindexed(meters)).as("generation 2 serves, with its index").isEqualTo(0.0);
        assertThat(warnings).hasSize(1);
    }

    @Test
    void aCollectionWhoseCheckFailsDoesNotHoldBackTheSwitchOfTheOthers() throws Exception {
        CollectionRegistry registry = new CollectionRegistry(ModelCatalog.bundled());
        int first;
        int second;
        try (Connection owner = db.connect()) {
            first = complete(registry, owner, "stuck");
            second = complete(registry, owner, "free");
        }
        assertThat(first).isLessThan(second);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        MigrationSwitcher switcher = new MigrationSwitcher(null, meters);
        try (Connection holder = db.connect();
                Connection worker = workerConnection()) {
            holder.setAutoCommit(false);
            holder.createStatement().execute("select 1 from collections where id = " + first + " for update");
            worker.createStatement().execute("set lock_timeout = '500ms'");
            switcher.check(worker, () -> true);
            holder.rollback();
        }
        assertThat(model("free")).as("checked after the one that failed").isEqualTo("bge-small-en-v1.5");
        assertThat(model("stuck")).isEqualTo("all-MiniLM-L6-v2");
        assertThat(meters.get(MigrationSwitcher.FAILED).counter().count()).isEqualTo(1.0);
        try (Connection worker = workerConnection()) {
            switcher.check(worker, () -> true);
        }
        assertThat(model("stuck")).as("the next check").isEqualTo("bge-small-en-v1.5");
    }

    @Test
    void aSweepThatFailsStillPutsTheNextPassOffForEveryWorker() throws Exception {
        CollectionRegistry registry = new CollectionRegistry(ModelCatalog.bundled());
        int id;
        try (Connection owner = db.connect()) {
            id = complete(registry, owner, "failing"); // switched by the check below: generation 1 kept
        }
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        MigrationSwitcher switcher = new MigrationSwitcher(null, meters);
        try (Connection holder = db.connect();
                Connection worker = workerConnection()) {
            holder.setAutoCommit(false);
            // only the sweep writes generation_asks: its pass fails on the lock, the switch does not
            holder.createStatement().execute("lock table generation_asks in exclusive mode");
            worker.createStatement().execute("set lock_timeout = '500ms'");
            switcher.check(worker, () -> true);
            holder.rollback();
        }
        assertThat(model("failing")).as("switched").isEqualTo("bge-small-en-v1.5");
        assertThat(meters.get(MigrationSwitcher.FAILED).counter().count())
                .as("the sweep's pass failed")
                .isEqualTo(1.0);
        assertThat(db.queryValue("select round(extract(epoch from due_at - now())) between 25 and 31 from"
                        + " generation_sweeps where collection_id = " + id))
                .as("the next pass put off by the period for every worker, though the pass failed")
                .isEqualTo(true);
    }

    /** Collection {@code name} with one embedded chunk and a migration to bge-small-en-v1.5 that has every vector; its id. */
    private static int complete(CollectionRegistry registry, Connection owner, String name) throws Exception {
        int id = registry.create(owner, name, new CollectionSettings(null, "all-MiniLM-L6-v2", null, null, null, null))
                .id();
        db.execute("insert into documents (collection_id, external_id, title, status) values (" + id
                + ", 'a', 'T', 'embedded')");
        db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                + " select id, collection_id, 0, 0, 'text', 1 from documents where collection_id = " + id);
        writeVectors(id, 1, "all-MiniLM-L6-v2");
        new CollectionMigrations(ModelCatalog.bundled()).migrate(owner, name, null, "bge-small-en-v1.5", null);
        writeVectors(id, 2, "bge-small-en-v1.5");
        return id;
    }

    private static Object model(String name) throws SQLException {
        try (Connection c = db.connect()) {
            return CollectionCatalog.stored(c, name).model();
        }
    }

    private static double unindexed(SimpleMeterRegistry meters) {
        return meters.get(UnindexedCollections.GAUGE)
                .tag("collection", "lists")
                .gauge()
                .value();
    }

    private static double waiting(SimpleMeterRegistry meters) {
        return meters.get(MigrationSwitcher.WAITING)
                .tag("collection", "lists")
                .gauge()
                .value();
    }

    private static Object servingModel() throws SQLException {
        try (Connection c = db.connect()) {
            return CollectionCatalog.stored(c, "lists").model();
        }
    }

    private static void writeVectors(int collection, int generation, String model) throws SQLException {
        db.execute("insert into chunk_embeddings (chunk_id, collection_id, generation, embedding, model) select id,"
                + " collection_id, " + generation + ", array_fill(1, array[" + DIMENSIONS + "])::real[]::vector, '"
                + model + "' from chunks where collection_id = " + collection);
    }

    private static Connection workerConnection() throws SQLException {
        return Database.connect(
                DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), "it", Duration.ofSeconds(10));
    }

    private static Logger logger() {
        return (Logger) LoggerFactory.getLogger(MigrationSwitcher.class);
    }
}
