package io.ragline.core.collections;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A rollback and a vector write under way, against real Postgres (second review of issue 19 item
 * 5): the rollback waits for the write, as the switch does, so it never serves a generation that a
 * write committed after its check left without a vector; and the sweep asks again for an embedded
 * document one of whose chunks lacks a vector of the serving generation. Collection "docs" served
 * with "small" (generation 1, 3 dimensions), was migrated to "large" (generation 2, 8 dimensions),
 * and keeps generation 1; documents a and b have vectors of both.
 */
class GenerationLocksIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private final CollectionRegistry registry = new CollectionRegistry(CollectionRegistryIT.BUNDLED);
    private final CollectionMigrations migrations = new CollectionMigrations(CollectionRegistryIT.BUNDLED);

    private int collection;

    @BeforeEach
    void aMigratedCollectionKeepingItsFirstGeneration() throws Exception {
        db.execute("delete from outbox");
        db.execute("delete from collections");
        try (Connection c = db.connect()) {
            collection = registry.create(c, "docs", new CollectionSettings(null, "small", null, null, null, null))
                    .id();
        }
        for (String id : List.of("a", "b", "c")) {
            db.execute("insert into documents (collection_id, external_id, title, status) values (" + collection + ", '"
                    + id + "', 'T', '" + (id.equals("c") ? "chunked" : "embedded") + "')");
            db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select id, collection_id, 0, 0, 'text " + id + "', 2 from documents where external_id = '" + id
                    + "'");
        }
        writeVectors(1, 3, "small", "'a', 'b'");
        try (Connection c = db.connect()) {
            migrations.migrate(c, "docs", null, "large", null);
        }
        writeVectors(2, 8, "large", "'a', 'b'");
        try (Connection c = db.connect()) {
            assertThat(CollectionMigrations.switchIfComplete(c, collection).switched())
                    .isPresent();
        }
        db.execute("delete from outbox");
    }

    @Test
    void aRollbackWaitsForAWriteUnderWayAndRefusesTheKeptGenerationItLeftWithoutAVector() throws Exception {
        try (Connection writer = db.connect();
                Connection rollingBack = db.connect()) {
            // the embedding-worker's write of c: generation 2 serves, generation 1's vector is owed
            writer.setAutoCommit(false);
            Generation.lockedForWrite(writer, List.of(collection));
            writeVectors(writer, 2, 8, "large", "'c'");
            writer.createStatement().execute("update documents set status = 'embedded' where external_id = 'c'");
            long pid = ((Number) single(rollingBack, "select pg_backend_pid()")).longValue();
            CompletableFuture<Void> rollback = CompletableFuture.runAsync(() -> {
                try {
                    rollingBack.setAutoCommit(false);
                    migrations.rollback(rollingBack, "docs");
                    rollingBack.commit();
                } catch (SQLException | CollectionException e) {
                    throw new CompletionException(e);
                }
            });
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(
                                    db.queryValue("select wait_event_type from pg_stat_activity where pid = " + pid))
                            .as("the rollback waits for the write under way")
                            .isEqualTo("Lock"));
            writer.commit();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(rollback::isDone);
            assertThat(rollback)
                    .as("c has a vector of generation 2 and none of generation 1")
                    .isCompletedExceptionally();
            rollingBack.rollback();
        }
        assertThat(db.queryValue("select serving_generation(" + collection + ")"))
                .isEqualTo(2);
    }

    @Test
    void theSweepAsksAgainForAnEmbeddedDocumentLackingAVectorOfTheServingGeneration() throws Exception {
        // what a write committed across a switch leaves: c embedded with a vector of the kept generation only
        writeVectors(1, 3, "small", "'c'");
        db.execute("update documents set status = 'embedded' where external_id = 'c'");
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            assertThat(GenerationSweep.sweep(c, collection, GenerationSweep.LIMIT, Duration.ofMinutes(1)))
                    .isEqualTo(OptionalInt.of(1));
            c.commit();
        }
        assertThat(db.queryValue("select string_agg(key, ',') from outbox where topic = 'embedding-requests'"))
                .isEqualTo("docs/c");
        assertThat(db.queryValue("select generation from generation_asks where document_id = (select id from"
                        + " documents where external_id = 'c')"))
                .as("asked for its serving generation's vector")
                .isEqualTo(2);
    }

    @Test
    void theWorkersTogetherSweepACollectionAtItsPaceNotEachAtItsOwn() throws Exception {
        // a's vector of the kept generation 1 is owed: every pass that runs asks for it again (no wait)
        db.execute("delete from chunk_embeddings where generation = 1 and chunk_id in (select ch.id from chunks ch"
                + " join documents d on d.id = ch.document_id where d.external_id = 'a')");
        GenerationSweep.Pace hourly = new GenerationSweep.Pace(Duration.ofHours(1), GenerationSweep.SPACING);
        db.execute("insert into generation_sweeps values (" + (collection + 1000) + ", now(), 0)"); // a deleted one's
        assertThat(sweepIfDue(hourly)).as("the first worker's pass").isEqualTo(OptionalInt.of(1));
        assertThat(db.queryValue("select string_agg(collection_id::text, ',') from generation_sweeps"))
                .as("the row of a collection with nothing left to sweep deleted")
                .isEqualTo(String.valueOf(collection));
        db.execute("delete from outbox"); // published: a pass would ask again
        assertThat(db.queryValue("select round(extract(epoch from due_at - now()) / 60) from generation_sweeps where"
                        + " collection_id = " + collection))
                .as("the next pass an hour away")
                .isEqualTo(new java.math.BigDecimal("60"));

        assertThat(sweepIfDue(hourly))
                .as("another worker's pass within the hour")
                .isEmpty();
        assertThat(db.queryValue("select count(*) from outbox")).isEqualTo(0L);

        db.execute("update generation_sweeps set due_at = now() - interval '1 second'");
        assertThat(sweepIfDue(hourly)).as("due again").isEqualTo(OptionalInt.of(1));
    }

    private OptionalInt sweepIfDue(GenerationSweep.Pace pace) throws SQLException {
        try (Connection c = db.connect()) { // a worker's connection of its own
            c.setAutoCommit(false);
            OptionalInt asked = GenerationSweep.sweepIfDue(c, collection, GenerationSweep.LIMIT, Duration.ZERO, pace);
            c.commit();
            return asked;
        }
    }

    private void writeVectors(int generation, int dimensions, String model, String documents) throws SQLException {
        try (Connection c = db.connect()) {
            writeVectors(c, generation, dimensions, model, documents);
        }
    }

    private void writeVectors(Connection c, int generation, int dimensions, String model, String documents)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("insert into chunk_embeddings (chunk_id, collection_id,"
                + " generation, embedding, model) select ch.id, ch.collection_id, " + generation + ", array_fill(1,"
                + " array[" + dimensions + "])::real[]::vector, '" + model + "' from chunks ch join documents d on"
                + " d.id = ch.document_id where d.collection_id = " + collection + " and d.external_id in ("
                + documents + ")")) {
            s.executeUpdate();
        }
    }

    private static Object single(Connection c, String sql) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql);
                ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getObject(1);
        }
    }
}
