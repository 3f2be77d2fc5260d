package io.ragline.core.collections;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.contracts.pipeline.CollectionEvent;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Embedding generations against real Postgres with pgvector: a migration's building generation
 * with its own index, its backfill requests, the switch only once every searchable chunk has a new
 * vector (atomic, with collection.migrated), searches of the kept generation still answering after
 * it, rollback and prune, and the refused requests. The vectors are written here as the
 * embedding-worker would (its writer is tested in embedding-worker); "small" has 3 dimensions and
 * "large" 8, so a vector of one model cannot be ranked against the other's.
 */
class CollectionMigrationsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private final CollectionRegistry registry = new CollectionRegistry(CollectionRegistryIT.BUNDLED);
    private final CollectionMigrations migrations = new CollectionMigrations(CollectionRegistryIT.BUNDLED);

    private int collection;

    @BeforeEach
    void twoEmbeddedDocuments() throws Exception {
        db.execute("delete from outbox");
        db.execute("delete from collections");
        try (Connection c = db.connect()) {
            collection = registry.create(c, "docs", new CollectionSettings(null, "small", null, null, null, null))
                    .id();
        }
        twoDocuments();
        writeVectors(1, 3, "small");
    }

    /** Documents a and b of the collection, two chunks each. */
    private void twoDocuments() throws SQLException {
        for (String id : List.of("a", "b")) {
            db.execute("insert into documents (collection_id, external_id, title, status) values (" + collection + ", '"
                    + id + "', 'T', 'embedded')");
            for (int seq = 0; seq < 2; seq++) {
                db.execute("insert into chunks (document_id, collection_id, document_version, seq, content,"
                        + " token_count) select id, collection_id, 0, " + seq + ", 'text " + id + seq + "', 2 from"
                        + " documents where external_id = '" + id + "' and collection_id = " + collection);
            }
        }
    }

    @Test
    void aMigrationBuildsASecondGenerationBesideTheServingOneAndSwitchesOnlyWhenItIsComplete() throws Exception {
        try (Connection c = db.connect()) {
            CollectionMigrations.Started started = migrations.migrate(c, "docs", null, "large", null);
            assertThat(started.building().number()).isEqualTo(2);
            assertThat(started.building().state()).isEqualTo(GenerationState.BUILDING);
            assertThat(started.requested())
                    .as("a backfill request per embedded document")
                    .isEqualTo(2);
        }
        assertThat(db.queryValue("select count(*) from outbox where topic = 'embedding-requests'"))
                .isEqualTo(2L);
        assertThat(indexDefinition(2)).asString().contains("vector(8)").contains("(generation = 2)");
        assertThat(progress()).contains(new CollectionMigrations.Progress(2, "large", 0, 4, false, 0, null));

        writeVectors(2, 8, "large", "a");
        assertThat(progress()).contains(new CollectionMigrations.Progress(2, "large", 2, 4, false, 0, null));
        assertThat(switchIfComplete()).as("b still lacks its vectors").isEmpty();
        assertThat(search(3, null))
                .as("the serving generation answers meanwhile")
                .hasSize(2);

        writeVectors(2, 8, "large", "b");
        Optional<CollectionEvent> switched = switchIfComplete();
        assertThat(switched)
                .contains(new CollectionEvent("docs", 2, "large", 8, 1, "small", CollectionEvent.Reason.SWITCH));
        assertThat(switchIfComplete()).as("switched once").isEmpty();
        assertThat(db.queryValue("select payload ->> 'type' from outbox where topic = 'pipeline-events'"))
                .isEqualTo("collection.migrated");
        try (Connection c = db.connect()) {
            Collection now = CollectionCatalog.stored(c, "docs");
            assertThat(now.model()).isEqualTo("large");
            assertThat(now.dimensions()).isEqualTo(8);
            assertThat(now.generation()).isEqualTo(2);
        }
        assertThat(search(8, null)).as("the new generation serves").hasSize(2);
        assertThat(search(3, 1))
                .as("a search that read the collection before the switch still answers")
                .hasSize(2);
        assertThatThrownBy(() -> search(3, null))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("query vector has 3 dimensions, generation 2");
    }

    @Test
    void aRollbackServesTheKeptGenerationAgainAndAPruneDeletesItsVectorsAndIndex() throws Exception {
        migrateAndComplete();
        try (Connection c = db.connect()) {
            CollectionMigrations.RolledBack back = migrations.rollback(c, "docs");
            assertThat(back.switched())
                    .isEqualTo(new CollectionEvent("docs", 1, "small", 3, 2, "large", CollectionEvent.Reason.ROLLBACK));
            assertThat(CollectionCatalog.stored(c, "docs").model()).isEqualTo("small");
        }
        assertThat(search(3, null)).hasSize(2);
        try (Connection c = db.connect()) {
            migrations.rollback(c, "docs"); // forward again: generation 2 is the kept one now
            assertThat(migrations.prune(c, "docs", false))
                    .as("generation 1's vectors")
                    .isEqualTo(4L);
        }
        assertThat(db.queryValue("select count(*) from chunk_embeddings where generation = 1"))
                .isEqualTo(0L);
        assertThat(indexDefinition(1)).as("its index is dropped").isNull();
        assertThat(db.queryValue("select count(*) from collection_generations")).isEqualTo(1L);
        assertThat(search(8, null)).hasSize(2);
        try (Connection c = db.connect()) {
            assertThatThrownBy(() -> migrations.rollback(c, "docs"))
                    .isInstanceOf(CollectionException.class)
                    .hasMessageContaining("has no kept generation to roll back to")
                    .extracting(e -> ((CollectionException) e).reason())
                    .isEqualTo(CollectionException.Reason.CONFLICT);
        }
    }

    @Test
    void aPruneOfAGenerationADeployedClassifierWasTrainedOnIsRefusedNamingItUnlessForced() throws Exception {
        migrateAndComplete(); // generation 1 (small) is kept
        long deployed = (long) db.queryValue("insert into models (project, backend, collection_id, artifact, deployed,"
                + " embedding_generation, embedding_model) values ('topics', 'builtin', " + collection + ", '\\x00',"
                + " true, 1, 'small') returning id");
        db.execute("insert into models (project, backend, collection_id, artifact, deployed, embedding_generation,"
                + " embedding_model) values ('old', 'builtin', " + collection + ", '\\x00', false, 1, 'small')");
        try (Connection c = db.connect()) {
            assertThatThrownBy(() -> migrations.prune(c, "docs", false))
                    .isInstanceOf(CollectionException.class)
                    .hasMessageContaining("the deployed model " + deployed + " of project 'topics' (trained on"
                            + " generation 1, small)")
                    .hasMessageNotContaining("'old'")
                    .hasMessageContaining("--force")
                    .extracting(e -> ((CollectionException) e).reason())
                    .isEqualTo(CollectionException.Reason.CONFLICT);
        }
        assertThat(db.queryValue("select count(*) from chunk_embeddings where generation = 1"))
                .as("nothing pruned")
                .isEqualTo(4L);
        try (Connection c = db.connect()) {
            assertThat(migrations.prune(c, "docs", true)).isEqualTo(4L);
        }
        assertThat(db.queryValue("select count(*) from generation_dependants(" + collection + ", 1)"))
                .isEqualTo(0L);
    }

    @Test
    void aRollbackToAKeptGenerationThatLacksVectorsIsRefusedAndChangesNothing() throws Exception {
        migrateAndComplete();
        db.execute("delete from chunk_embeddings where generation = 1 and chunk_id = (select min(id) from chunks)");
        try (Connection c = db.connect()) {
            assertThatThrownBy(() -> migrations.rollback(c, "docs"))
                    .isInstanceOf(CollectionException.class)
                    .hasMessageContaining("generation 1 (small) lacks the vectors of some searchable chunks")
                    .extracting(e -> ((CollectionException) e).reason())
                    .isEqualTo(CollectionException.Reason.CONFLICT);
            assertThat(CollectionCatalog.stored(c, "docs").model()).isEqualTo("large");
        }
    }

    @Test
    void aRollbackDuringAMigrationStopsItAndDeletesWhatItBuilt() throws Exception {
        try (Connection c = db.connect()) {
            migrations.migrate(c, "docs", null, "large", null);
        }
        writeVectors(2, 8, "large", "a");
        try (Connection c = db.connect()) {
            CollectionMigrations.RolledBack back = migrations.rollback(c, "docs");
            assertThat(back.abandoned().number()).isEqualTo(2);
            assertThat(back.switched()).isNull();
        }
        assertThat(db.queryValue("select count(*) from chunk_embeddings where generation = 2"))
                .isEqualTo(0L);
        assertThat(indexDefinition(2)).isNull();
        assertThat(progress()).isEmpty();
        assertThat(search(3, null)).hasSize(2);
    }

    @Test
    void badRequestsAreRefusedWithTheirReasonAndChangeNothing() throws Exception {
        try (Connection c = db.connect()) {
            assertThatThrownBy(() -> migrations.migrate(c, "docs", null, "huge", null))
                    .isInstanceOf(CollectionException.class)
                    .hasMessageContaining("'huge' is not a bundled model");
            assertThatThrownBy(() -> migrations.migrate(c, "docs", null, "small", null))
                    .isInstanceOf(CollectionException.class)
                    .hasMessageContaining("already serves with onnx/small");
            assertThatThrownBy(() -> migrations.migrate(c, "nope", null, "large", null))
                    .isInstanceOf(CollectionException.class)
                    .extracting(e -> ((CollectionException) e).reason())
                    .isEqualTo(CollectionException.Reason.NOT_FOUND);
            assertThatThrownBy(() -> migrations.prune(c, "docs", false))
                    .isInstanceOf(CollectionException.class)
                    .hasMessageContaining("no kept generation to prune");
            migrations.migrate(c, "docs", null, "large", null);
            assertThatThrownBy(() -> migrations.migrate(c, "docs", null, "large", null))
                    .isInstanceOf(CollectionException.class)
                    .hasMessageContaining("a migration of collection 'docs' to large (generation 2) is running")
                    .extracting(e -> ((CollectionException) e).reason())
                    .isEqualTo(CollectionException.Reason.CONFLICT);
        }
        assertThat(db.queryValue("select count(*) from collection_generations")).isEqualTo(2L);
    }

    @Test
    void deletingACollectionDropsTheIndexesOfEveryGeneration() throws Exception {
        migrateAndComplete();
        db.execute("delete from collections where name = 'docs'");
        assertThat(indexDefinition(1)).isNull();
        assertThat(indexDefinition(2)).isNull();
        assertThat(db.queryValue("select count(*) from chunk_embeddings")).isEqualTo(0L);
    }

    @Test
    void anIvfflatMigrationWaitsWithoutLockingUntilTheOwnersReindexBuildsItsIndexThenSwitches() throws Exception {
        try (Connection c = db.connect()) {
            registry.create(
                    c,
                    "lists",
                    new CollectionSettings(
                            null,
                            "small",
                            null,
                            null,
                            null,
                            null,
                            new SearchIndex("l2", "ivfflat", null, null, null, 1, null, null, null)));
            collection = CollectionCatalog.stored(c, "lists").id();
        }
        twoDocuments();
        writeVectors(1, 3, "small");
        try (Connection c = db.connect()) {
            migrations.migrate(c, "lists", null, "large", null);
        }
        writeVectors(2, 8, "large");
        for (Connection checker : List.of(workerConnection(), db.connect())) { // the worker's login, the owner's
            try (checker;
                    Connection writer = db.connect()) {
                checker.setAutoCommit(false);
                CollectionMigrations.SwitchCheck check = CollectionMigrations.switchIfComplete(checker, collection);
                assertThat(check.blocked())
                        .as("complete, but its IVFFlat index is missing")
                        .isTrue();
                assertThat(check.switched()).isEmpty();
                assertThat(check.progress())
                        .contains(new CollectionMigrations.Progress(2, "large", 4, 4, true, 0, null));
                assertThat(check.progress().orElseThrow().indexAdvice("lists"))
                        .contains("ragline collections reindex lists");
                writer.setAutoCommit(false);
                assertThat(single(
                                writer,
                                "select count(*) from (select 1 from collection_generations where" + " collection_id = "
                                        + collection + " for update nowait) g"))
                        .as("the check, its transaction still open, holds no lock on the generation rows")
                        .isEqualTo(2L);
                assertThat(single(writer, "select id from collections where id = " + collection + " for update nowait"))
                        .as("nor on the collection's row")
                        .isEqualTo(collection);
                writer.rollback();
                checker.commit();
            }
        }
        assertThat(indexDefinition(2))
                .as("not built by the check, whatever its login")
                .isNull();
        try (Connection owner = db.connect()) {
            assertThat(registry.reindex(owner, "lists"))
                    .as("the waiting generation's index")
                    .isEqualTo(db.queryValue("select collection_index_name(" + collection + ", 2)"));
        }
        assertThat(indexDefinition(2)).asString().contains("ivfflat").contains("(generation = 2)");
        try (Connection worker = workerConnection()) {
            CollectionMigrations.SwitchCheck check = CollectionMigrations.switchIfComplete(worker, collection);
            assertThat(check.blocked()).isFalse();
            assertThat(check.switched())
                    .hasValueSatisfying(e -> assertThat(e.generation()).isEqualTo(2));
        }
    }

    @Test
    void anHnswMigrationAskedToIndexAfterTheLoadLeavesItsIndexOutWaitsForTheOwnersReindexThenSwitches()
            throws Exception {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            migrations.migrate(c, "docs", null, "large", null, null, null, IndexBuild.AFTER_LOAD);
            c.commit();
            assertThat(single(c, "select coalesce(current_setting('ragline.index_after_load', true), '')"))
                    .as("the setting ends with the transaction that made it")
                    .isEqualTo("");
        }
        assertThat(indexDefinition(2))
                .as("no HNSW index for the backfill's vectors")
                .isNull();
        writeVectors(2, 8, "large");
        assertThat(search(8, 2))
                .as("the building generation is searchable without its index (exact scans)")
                .containsExactly("a", "b");
        try (Connection worker = workerConnection()) {
            worker.setAutoCommit(false);
            CollectionMigrations.SwitchCheck check = CollectionMigrations.switchIfComplete(worker, collection);
            assertThat(check.blocked())
                    .as("complete, but waiting for its index")
                    .isTrue();
            assertThat(check.switched()).isEmpty();
            assertThat(check.progress()).contains(new CollectionMigrations.Progress(2, "large", 4, 4, true, 0, null));
            worker.commit();
        }
        assertThat(indexDefinition(2)).as("not built by the check").isNull();
        try (Connection owner = db.connect()) {
            assertThat(registry.reindex(owner, "docs"))
                    .as("the waiting generation's index")
                    .isEqualTo(db.queryValue("select collection_index_name(" + collection + ", 2)"));
        }
        assertThat(indexDefinition(2)).asString().contains("hnsw").contains("(generation = 2)");
        assertThat(switchIfComplete())
                .hasValueSatisfying(e -> assertThat(e.generation()).isEqualTo(2));
        assertThat(search(8, null)).containsExactly("a", "b");
    }

    @Test
    void anIndexAfterTheLoadNeedsATransactionAndAMigrationAtOnceStillBuildsItsIndex() throws Exception {
        try (Connection c = db.connect()) {
            assertThatThrownBy(
                            () -> migrations.migrate(c, "docs", null, "large", null, null, null, IndexBuild.AFTER_LOAD))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("needs a transaction");
        }
        assertThat(db.queryValue("select count(*) from collection_generations where collection_id = " + collection))
                .as("nothing made")
                .isEqualTo(1L);
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            registry.create(
                    c, "other", new CollectionSettings(null, "small", null, null, null, null), IndexBuild.AFTER_LOAD);
            migrations.migrate(c, "docs", null, "large", null, null, null, IndexBuild.AT_ONCE);
            c.commit();
        }
        assertThat(indexDefinition(2))
                .as("at once, though an earlier statement of its transaction asked for after the load")
                .asString()
                .contains("hnsw");
    }

    @Test
    void aReindexDuringAnHnswMigrationWithoutItsIndexBuildsThatOneBeforeTheBackfillIsComplete() throws Exception {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            migrations.migrate(c, "docs", null, "large", null, null, null, IndexBuild.AFTER_LOAD);
            c.commit();
        }
        writeVectors(2, 8, "large", "a");
        assertThat(progress()).hasValueSatisfying(p -> assertThat(p.complete()).isFalse());
        try (Connection owner = db.connect()) {
            assertThat(registry.reindex(owner, "docs"))
                    .as("the building generation's, not the serving one's again")
                    .isEqualTo(db.queryValue("select collection_index_name(" + collection + ", 2)"));
        }
        assertThat(indexDefinition(2)).asString().contains("hnsw");
        writeVectors(2, 8, "large", "b");
        assertThat(switchIfComplete())
                .hasValueSatisfying(e -> assertThat(e.generation()).isEqualTo(2));
    }

    @Test
    void aSwitchWaitsForAVectorWriteUnderWayAndDoesNotSwitchPastADocumentItLeftWithoutANewVector() throws Exception {
        db.execute("insert into documents (collection_id, external_id, title, status) values (" + collection
                + ", 'c', 'T', 'chunked')");
        db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                + " select id, collection_id, 0, 0, 'text c0', 2 from documents where external_id = 'c'");
        try (Connection c = db.connect()) {
            assertThat(migrations.migrate(c, "docs", null, "large", null).requested())
                    .as("the embedded documents and the chunked one")
                    .isEqualTo(3);
        }
        writeVectors(2, 8, "large", "a", "b");
        try (Connection writer = db.connect();
                Connection switcher = db.connect()) {
            writer.setAutoCommit(false); // as the embedding-worker's write of c, read before the migrate
            Generation.lockedForWrite(writer, List.of(collection));
            try (PreparedStatement s = writer.prepareStatement("insert into chunk_embeddings (chunk_id, collection_id,"
                    + " generation, embedding, model) select ch.id, ch.collection_id, 1, array_fill(1, array[3])::real[]"
                    + "::vector, 'small' from chunks ch join documents d on d.id = ch.document_id where d.external_id"
                    + " = 'c'")) {
                s.executeUpdate();
            }
            writer.createStatement().execute("update documents set status = 'embedded' where external_id = 'c'");
            long pid = (long) (int) single(switcher, "select pg_backend_pid()");
            CompletableFuture<Optional<CollectionEvent>> check = CompletableFuture.supplyAsync(() -> {
                try {
                    switcher.setAutoCommit(false);
                    Optional<CollectionEvent> e = CollectionMigrations.switchIfComplete(switcher, collection)
                            .switched();
                    switcher.commit();
                    return e;
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(
                                    db.queryValue("select wait_event_type from pg_stat_activity where pid = " + pid))
                            .as("the switch waits for the write under way")
                            .isEqualTo("Lock"));
            writer.commit();
            assertThat(check.get(10, TimeUnit.SECONDS))
                    .as("c has a serving vector and none of generation 2")
                    .isEmpty();
        }
        assertThat(progress()).contains(new CollectionMigrations.Progress(2, "large", 4, 5, false, 0, null));
    }

    @Test
    void aWorkerSkipsACollectionAnotherIsCheckingAndACompleteOneSwitchesOnItsOwnCheck() throws Exception {
        try (Connection c = db.connect()) {
            migrations.migrate(c, "docs", null, "large", null);
        }
        writeVectors(2, 8, "large");
        try (Connection other = db.connect();
                Connection c = db.connect()) {
            other.setAutoCommit(false);
            single(
                    other,
                    "select pg_advisory_xact_lock(hashtext(current_schema() || '.collection_migration_check'), "
                            + collection + ")");
            CollectionMigrations.SwitchCheck check = CollectionMigrations.switchIfComplete(c, collection);
            assertThat(check.skipped()).as("another worker is checking it").isTrue();
            assertThat(check.switched()).isEmpty();
            other.rollback();
        }
        assertThat(switchIfComplete()).isPresent();
    }

    @Test
    void aMigrateRollbackOrPruneLetsDocumentsArriveMeanwhile() throws Exception {
        try (Connection migrating = db.connect();
                Connection ingest = db.connect()) {
            migrating.setAutoCommit(false);
            migrations.migrate(migrating, "docs", null, "large", null);
            ingest.createStatement().execute("set lock_timeout = '2s'");
            assertThat(single(ingest, "select id from collections where name = 'docs' for key share"))
                    .as("the ingest-worker's lock of its collection is not held back")
                    .isEqualTo(collection);
            migrating.commit();
        }
    }

    @Test
    void aResumeDuringAMigrationAsksAgainForTheEmbeddedDocumentsItsBackfillSkipped() throws Exception {
        try (Connection c = db.connect()) {
            migrations.migrate(c, "docs", null, "large", null);
            registry.setStatus(c, "docs", io.ragline.contracts.status.CollectionStatus.PAUSED);
            db.execute("delete from outbox"); // delivered while paused: the embedding-worker skipped them
            assertThat(registry.setStatus(c, "docs", io.ragline.contracts.status.CollectionStatus.ACTIVE)
                            .requested())
                    .isEqualTo(2);
        }
        assertThat(db.queryValue("select count(*) from outbox where topic = 'embedding-requests'"))
                .isEqualTo(2L);
    }

    @Test
    void aMigrationToAnotherChunkSizeCountsDocumentsAndSwitchesWhenEachHasItsNewChunksVectors() throws Exception {
        try (Connection c = db.connect()) {
            assertThatThrownBy(() -> migrations.migrate(c, "docs", null, null, null, 64, 8))
                    .isInstanceOfSatisfying(CollectionException.class, e -> {
                        assertThat(e.reason()).isEqualTo(CollectionException.Reason.CONFLICT);
                        assertThat(e.getMessage())
                                .contains("2 document(s) of collection 'docs' (such as a, b)")
                                .contains("publish them again");
                    });
        }
        assertThat(db.queryValue("select count(*) from collection_generations")).isEqualTo(1L);
        db.execute("insert into document_texts (document_id, content) select id, 'the text of ' || external_id from"
                + " documents");
        CollectionMigrations.Started started;
        try (Connection c = db.connect()) {
            started = migrations.migrate(c, "docs", null, null, null, 64, 8);
        }
        assertThat(started.recut()).isTrue();
        assertThat(started.requested()).as("documents to cut again").isEqualTo(2);
        assertThat(started.building().chunking()).isEqualTo(2);
        assertThat(started.building().model()).isEqualTo("small");
        assertThat(db.queryValue("select count(*) from outbox where topic = 'embedding-requests'"))
                .as("no request before the cut: it would find no chunk of the new chunking")
                .isEqualTo(0L);
        assertThat(db.queryValue("select chunk_size_tokens || '/' || chunk_overlap_tokens from collection_chunkings"
                        + " where chunking = 2"))
                .isEqualTo("64/8");
        assertThat(progress())
                .contains(new CollectionMigrations.Progress(2, "small", 0, 2, false, 0, null, "documents"));
        assertThat(db.queryValue("select string_agg(d.external_id || ':' || o.chunking, ',' order by d.id) from"
                        + " chunking_owed(" + collection + ", 10) o join documents d on d.id = o.document_id"))
                .isEqualTo("a:2,b:2");
        long b = (long) db.queryValue("select id from documents where external_id = 'b'");
        assertThat(db.queryValue("select string_agg(d.external_id, ',') from chunking_owed(" + collection + ", " + b
                        + ", 10) o join documents d on d.id = o.document_id"))
                .as("a walk from document b on: b included, a (before it) not")
                .isEqualTo("b");
        assertThat(db.queryValue("select count(*) from chunking_owed(" + collection + ", " + (b + 1) + ", 10)"))
                .isEqualTo(0L);

        newChunks("a", 3);
        newVectors("a");
        assertThat(progress())
                .contains(new CollectionMigrations.Progress(2, "small", 1, 2, false, 0, null, "documents"));
        assertThat(switchIfComplete()).as("b has no chunk of the new chunking").isEmpty();
        newChunks("b", 2);
        assertThat(db.queryValue("select count(*) from chunking_owed(" + collection + ", 10)"))
                .isEqualTo(0L);
        assertThat(switchIfComplete()).as("b's new chunks lack their vectors").isEmpty();
        assertThat(search(3, null))
                .as("the serving generation answers meanwhile")
                .containsExactly("a", "b");

        newVectors("b");
        assertThat(switchIfComplete())
                .contains(new CollectionEvent("docs", 2, "small", 3, 1, "small", CollectionEvent.Reason.SWITCH));
        assertThat(db.queryValue("select chunk_size_tokens || '/' || chunk_overlap_tokens from collections"))
                .as("the collection's row holds the serving chunking")
                .isEqualTo("64/8");
        assertThat(db.queryValue("select string_agg(distinct ch.chunking::text, ',') from search_documents("
                        + "array_fill(1, array[3])::real[]::vector, 10, 'docs', mode => 'vector', group_by_document =>"
                        + " false) s join chunks ch on ch.id = s.chunk_id"))
                .as("searches rank the new chunks")
                .isEqualTo("2");

        try (Connection c = db.connect()) {
            migrations.rollback(c, "docs");
        }
        assertThat(db.queryValue("select chunk_size_tokens || '/' || chunk_overlap_tokens from collections"))
                .isEqualTo("128/16");

        // The kept generation's chunking asked for again (with another model) is taken as it is: its
        // chunks exist, so its documents are asked for, not cut; stopping that migration keeps them.
        try (Connection c = db.connect()) {
            CollectionMigrations.Started again = migrations.migrate(c, "docs", null, "large", null, 64, 8);
            assertThat(again.recut()).isFalse();
            assertThat(again.building().number()).isEqualTo(3);
            assertThat(again.building().chunking()).isEqualTo(2);
            assertThat(again.requested()).isEqualTo(2);
            assertThat(migrations.rollback(c, "docs").abandoned().number()).isEqualTo(3);
        }
        assertThat(db.queryValue("select count(*) from chunks where chunking = 2"))
                .isEqualTo(5L);
        try (Connection c = db.connect()) {
            CollectionMigrations.Started next = migrations.migrate(c, "docs", null, null, null, 32, 4);
            assertThat(next.building().number())
                    .as("a stopped migration's number is not taken again")
                    .isEqualTo(4);
            assertThat(next.building().chunking()).isEqualTo(4);
            assertThat(next.recut()).isTrue();
            migrations.rollback(c, "docs");
        }
        // A document with chunks only of the chunking going (an ingest that read the chunkings before
        // a switch) would be left with none: the prune is refused until it is cut again.
        db.execute("delete from chunks ch using documents d where d.id = ch.document_id and d.external_id = 'a' and"
                + " ch.chunking = 1");
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            assertThatThrownBy(() -> migrations.prune(c, "docs", false))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("a document has chunks only of the chunking of generation 2");
            c.rollback();
        }
        for (int seq = 0; seq < 2; seq++) {
            db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select id, collection_id, 0, " + seq + ", 'text a" + seq + "', 2 from documents where"
                    + " external_id = 'a'");
        }
        writeVectors(1, 3, "small", "a");
        try (Connection c = db.connect()) {
            assertThat(migrations.prune(c, "docs", false)).isEqualTo(3 + 2);
        }
        assertThat(db.queryValue("select count(*) from chunks where chunking = 2"))
                .as("the pruned chunking's chunks")
                .isEqualTo(0L);
        assertThat(db.queryValue("select string_agg(chunking::text, ',') from collection_chunkings"))
                .isEqualTo("1");
        assertThat(search(3, null)).containsExactly("a", "b");
    }

    @Test
    void theServingChunkSizeAskedForAgainIsAModelMigrationAndUpdatesChangeTheServingChunking() throws Exception {
        try (Connection c = db.connect()) {
            assertThatThrownBy(() -> migrations.migrate(c, "docs", null, null, null, 128, 16))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.fieldErrors().get("embedding_model"))
                                    .contains("nothing to migrate"));
            registry.update(c, "docs", new CollectionSettings(null, null, null, 100, 10, null));
        }
        assertThat(db.queryValue("select chunk_size_tokens || '/' || chunk_overlap_tokens from collection_chunkings"))
                .as("collections update writes the serving chunking")
                .isEqualTo("100/10");
        try (Connection c = db.connect()) {
            CollectionMigrations.Started s = migrations.migrate(c, "docs", null, "large", null, 100, 10);
            assertThat(s.recut()).isFalse();
            assertThat(s.building().chunking()).as("shares the serving chunks").isEqualTo(1);
            assertThat(s.requested()).isEqualTo(2);
        }
        assertThat(progress()).contains(new CollectionMigrations.Progress(2, "large", 0, 4, false, 0, null));
    }

    @Test
    void aPruneOfAChunkingWaitsForTheIngestInFlightAndLeavesNoneOfItsChunksBehind() throws Exception {
        db.execute("insert into document_texts (document_id, content) select id, 'text' from documents");
        try (Connection c = db.connect()) {
            migrations.migrate(c, "docs", null, null, null, 64, 8);
        }
        newChunks("a", 3);
        newChunks("b", 2);
        newVectors("a");
        newVectors("b");
        assertThat(switchIfComplete()).isPresent();
        try (Connection c = db.connect()) {
            migrations.rollback(c, "docs"); // generation 2, chunking 2, kept
        }
        try (Connection ingest = db.connect()) {
            // An ingest transaction that read the chunkings before the prune: it holds the collection
            // FOR KEY SHARE and is writing a chunk of the chunking about to go.
            ingest.setAutoCommit(false);
            ingest.createStatement().execute("select 1 from collections where id = " + collection + " for key share");
            ingest.createStatement()
                    .execute("insert into chunks (document_id, collection_id, document_version, seq, content,"
                            + " token_count, chunking) select id, collection_id, 0, 7, 'late', 1, 2 from documents"
                            + " where external_id = 'a'");
            CompletableFuture<Long> prune = CompletableFuture.supplyAsync(() -> {
                try (Connection c = db.connect()) {
                    return migrations.prune(c, "docs", false);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(1000);
            assertThat(prune).as("waits for the ingest in flight").isNotDone();
            ingest.commit();
            assertThat(prune.get(30, TimeUnit.SECONDS)).isEqualTo(5);
        }
        assertThat(db.queryValue("select count(*) from chunks where chunking = 2"))
                .as("the late chunk went with the others")
                .isEqualTo(0L);
    }

    /** {@code n} chunks of chunking 2 for document {@code id}. */
    private void newChunks(String id, int n) throws SQLException {
        db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count,"
                + " chunking) select d.id, d.collection_id, 0, s, 'small piece ' || s || ' of ' || d.external_id, 1, 2"
                + " from documents d, generate_series(0, " + (n - 1) + ") s where d.external_id = '" + id + "'");
    }

    /** Generation 2's vectors for document {@code id}'s chunks of chunking 2. */
    private void newVectors(String id) throws SQLException {
        db.execute("insert into chunk_embeddings (chunk_id, collection_id, generation, embedding, model) select ch.id,"
                + " ch.collection_id, 2, array_fill(1, array[3])::real[]::vector, 'small' from chunks ch join"
                + " documents d on d.id = ch.document_id where ch.chunking = 2 and d.external_id = '" + id + "'");
    }

    private static Object single(Connection c, String sql) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql);
                ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getObject(1);
        }
    }

    private static Connection workerConnection() throws SQLException {
        return io.ragline.core.db.Database.connect(
                io.ragline.core.config.DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(),
                db.schema(),
                "it",
                java.time.Duration.ofSeconds(10));
    }

    private void migrateAndComplete() throws Exception {
        try (Connection c = db.connect()) {
            migrations.migrate(c, "docs", null, "large", null);
        }
        writeVectors(2, 8, "large");
        assertThat(switchIfComplete()).isPresent();
    }

    private Optional<CollectionEvent> switchIfComplete() throws SQLException {
        try (Connection c = db.connect()) {
            return CollectionMigrations.switchIfComplete(c, collection).switched();
        }
    }

    private Optional<CollectionMigrations.Progress> progress() throws Exception {
        try (Connection c = db.connect()) {
            return migrations.progress(c, "docs");
        }
    }

    /** A vector of generation {@code generation} for every chunk of {@code documents} (all when none given). */
    private void writeVectors(int generation, int dimensions, String model, String... documents) throws SQLException {
        String vector = "array_fill(1, array[" + dimensions + "])::real[]::vector";
        db.execute("insert into chunk_embeddings (chunk_id, collection_id, generation, embedding, model)"
                + " select ch.id, ch.collection_id, " + generation + ", " + vector + ", '" + model + "' from chunks ch"
                + " join documents d on d.id = ch.document_id where d.collection_id = " + collection
                + (documents.length == 0 ? "" : " and d.external_id in ('" + String.join("', '", documents) + "')"));
    }

    /** The documents search_documents finds with a query of {@code dimensions}, in generation {@code generation}. */
    private static List<String> search(int dimensions, Integer generation) throws SQLException {
        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement("select document_id from search_documents(array_fill(1,"
                        + " array[?])::real[]::vector, 10, 'docs', mode => 'vector', generation => ?) order by 1")) {
            s.setInt(1, dimensions);
            s.setObject(2, generation, java.sql.Types.INTEGER);
            List<String> found = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getString(1));
                }
            }
            return found;
        }
    }

    private Object indexDefinition(int generation) throws SQLException {
        return db.queryValue("select indexdef from pg_indexes where schemaname = current_schema() and indexname ="
                + " collection_index_name(" + collection + ", " + generation + ")");
    }
}
