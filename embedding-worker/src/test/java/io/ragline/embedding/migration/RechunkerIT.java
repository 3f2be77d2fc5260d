package io.ragline.embedding.migration;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.core.collections.CollectionMigrations;
import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.collections.CollectionSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Database;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The embedding-worker's cut for a migration to another chunk size ({@link Rechunker}, run by the
 * {@link MigrationSwitcher}'s checks under the worker's login) against real Postgres: every stored
 * document is cut from its kept text with the new size, its vectors are asked for through the
 * outbox; a document locked by a writer in flight is left and cut at a later check, from the text
 * that writer committed; a kept chunking a document lacks is cut by the sweep.
 */
class RechunkerIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final int DOCUMENTS = 5;
    private int collection;

    @BeforeEach
    void documentsCutAt128Tokens() throws Exception {
        db.execute("delete from outbox");
        db.execute("delete from collections");
        try (Connection owner = db.connect()) {
            collection = new CollectionRegistry(ModelCatalog.bundled())
                    .create(owner, "manuals", new CollectionSettings(null, null, null, 128, 16, null))
                    .id();
        }
        for (int n = 0; n < DOCUMENTS; n++) {
            db.execute("insert into documents (collection_id, external_id, title, status, version) values ("
                    + collection + ", 'm" + n + "', 'Manual " + n + "', 'embedded', 3)");
            db.execute("insert into document_texts (document_id, content) select id, '" + text(n, "first")
                    + "' from documents where external_id = 'm" + n + "'");
            // As the ingest-worker cut it at 128 tokens: one chunk (what is inside does not matter here).
            db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select id, collection_id, 3, 0, 'whole', 120 from documents where external_id = 'm" + n + "'");
        }
        // Searchable: each has its serving vector (so no switch before the new vectors are in).
        db.execute("insert into chunk_embeddings (chunk_id, collection_id, generation, embedding, model) select id,"
                + " collection_id, 1, array_fill(1, array[384])::real[]::vector, 'm' from chunks");
    }

    @Test
    void aMigrationToAnotherChunkSizeCutsEveryDocumentFromItsTextAndAsksForItsVectors() throws Exception {
        try (Connection owner = db.connect()) {
            new CollectionMigrations(ModelCatalog.bundled()).migrate(owner, "manuals", null, null, null, 32, 4);
        }
        assertThat(db.queryValue("select count(*) from outbox where topic = 'embedding-requests'"))
                .isEqualTo(0L);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        MigrationSwitcher switcher = new MigrationSwitcher(null, meters);
        try (Connection holder = db.connect();
                Connection worker = workerConnection()) {
            // An ingest in flight on m0: it holds the document's row and writes a new text.
            holder.setAutoCommit(false);
            holder.createStatement().execute("select 1 from documents where external_id = 'm0' for update");
            switcher.check(worker, () -> true);
            assertThat(cut()).as("m0 skipped while it is locked").containsExactly("m1", "m2", "m3", "m4");
            holder.createStatement()
                    .execute("update document_texts t set content = '" + text(0, "second")
                            + "' from documents d where d.id = t.document_id and d.external_id = 'm0'");
            holder.createStatement().execute("update documents set version = 4 where external_id = 'm0'");
            holder.commit();
            switcher.check(worker, () -> true);
        }
        assertThat(cut()).containsExactly("m0", "m1", "m2", "m3", "m4");
        assertThat(meters.get(MigrationSwitcher.RECHUNKED).counter().count()).isEqualTo(DOCUMENTS);
        assertThat(db.queryValue("select max(token_count) from chunks where chunking = 2"))
                .isInstanceOfSatisfying(Integer.class, n -> assertThat(n).isBetween(16, 32));
        assertThat((long) db.queryValue("select min(n) from (select count(*) n from chunks where chunking = 2 group by"
                        + " document_id) x"))
                .as("each text cut in several 32-token pieces")
                .isGreaterThan(3L);
        assertThat(db.queryValue("select bool_and(content like 'Manual 0%' and content not like '%first%') from chunks"
                        + " ch join documents d on d.id = ch.document_id where d.external_id = 'm0' and ch.chunking ="
                        + " 2"))
                .as("m0 cut from the text its writer committed, under its title")
                .isEqualTo(true);
        assertThat(db.queryValue("select string_agg(distinct document_version::text, ',') from chunks ch join"
                        + " documents d on d.id = ch.document_id where d.external_id = 'm0' and ch.chunking = 2"))
                .isEqualTo("4");
        assertThat(db.queryValue("select string_agg(key || '@' || (payload ->> 'version'), ',' order by key) from"
                        + " outbox where topic = 'embedding-requests'"))
                .as("one request per document cut, naming its version")
                .isEqualTo("manuals/m0@4,manuals/m1@3,manuals/m2@3,manuals/m3@3,manuals/m4@3");
        try (Connection owner = db.connect()) {
            assertThat(new CollectionMigrations(ModelCatalog.bundled())
                            .progress(owner, "manuals")
                            .orElseThrow()
                            .unit())
                    .isEqualTo("documents");
        }
    }

    @Test
    void aKeptChunkingADocumentLacksIsCutByTheSweep() throws Exception {
        try (Connection owner = db.connect()) {
            new CollectionMigrations(ModelCatalog.bundled()).migrate(owner, "manuals", null, null, null, 32, 4);
        }
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (Connection worker = workerConnection()) {
            new MigrationSwitcher(null, meters).check(worker, () -> true);
        }
        // Switched (its vectors as the embedding-worker would write them), then m1's 128-token chunk is
        // gone, as if an ingest in flight at the switch had cut only the new chunking.
        db.execute("select collection_switch_generation(" + collection + ", 2)");
        db.execute("delete from chunks ch using documents d where d.id = ch.document_id and d.external_id = 'm1' and"
                + " ch.chunking = 1");
        try (Connection worker = workerConnection()) {
            db.execute("delete from generation_sweeps"); // the first check's sweep set the next pass 30 s on
            new MigrationSwitcher(null, meters, Duration.ZERO, Duration.ZERO).check(worker, () -> true);
        }
        assertThat(db.queryValue("select count(*) from chunks ch join documents d on d.id = ch.document_id where"
                        + " d.external_id = 'm1' and ch.chunking = 1"))
                .as("cut again at 128 tokens by the sweep of the kept generation")
                .isNotEqualTo(0L);
    }

    @Test
    void onceAWalkCutNothingTheChecksLeaveTheCollectionUntilTheSweepsPace() throws Exception {
        try (Connection owner = db.connect()) {
            new CollectionMigrations(ModelCatalog.bundled()).migrate(owner, "manuals", null, null, null, 32, 4);
        }
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        // The worker's pace (30 s), without the 30 s after the migrate in which walks follow each other
        MigrationSwitcher switcher = new MigrationSwitcher(null, meters, Duration.ZERO);
        try (Connection worker = workerConnection()) {
            // A walk that cuts all five; then, after the sweep's pass (due: none ran), one that finds nothing.
            switcher.check(worker, () -> true);
            switcher.check(worker, () -> true); // none due: no walk
            assertThat(cut()).hasSize(DOCUMENTS);
            // m2 loses its new chunks (as if an ingest in flight at the migrate had cut without them).
            db.execute("delete from chunks ch using documents d where d.id = ch.document_id and d.external_id = 'm2'"
                    + " and ch.chunking = 2");
            switcher.check(worker, () -> true);
            assertThat(cut())
                    .as("no walk before the pace: a check does not read the whole collection to find nothing")
                    .doesNotContain("m2");
            db.execute("delete from generation_sweeps"); // the sweep is due: its pass walks the collection too
            switcher.check(worker, () -> true);
        }
        assertThat(cut()).as("cut by the walk after the sweep's pass").contains("m2");
        assertThat(meters.get(MigrationSwitcher.RECHUNKED).counter().count()).isEqualTo(DOCUMENTS + 1.0);
    }

    /** The documents with chunks of chunking 2. */
    private static List<String> cut() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect();
                var rs = c.createStatement()
                        .executeQuery("select d.external_id from documents d where exists (select 1 from chunks ch"
                                + " where ch.document_id = d.id and ch.chunking = 2) order by 1")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** A manual's text: 24 numbered sentences about its {@code edition}. */
    private static String text(int n, String edition) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 24; i++) {
            b.append("Step ")
                    .append(i)
                    .append(" of the ")
                    .append(edition)
                    .append(" edition of manual ")
                    .append(n)
                    .append(" explains how the service restarts after a failure. ");
        }
        return b.toString().strip();
    }

    private static Connection workerConnection() throws SQLException {
        return Database.connect(
                DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), "it", Duration.ofSeconds(10));
    }
}
