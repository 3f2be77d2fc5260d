package io.ragline.core.collections;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.contracts.status.CollectionStatus;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The pipeline registry and re-embedding against real Postgres, as the schema's owner. */
class CollectionRegistryIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    /** Two bundled models, as embeddings' ModelCatalog would list them. */
    static final CollectionSettings.BundledModels BUNDLED = new CollectionSettings.BundledModels() {
        @Override
        public String defaultModel() {
            return "small";
        }

        @Override
        public List<String> names() {
            return List.of("small", "large");
        }

        @Override
        public int dimensions(String name) {
            return name.equals("small") ? 3 : 8;
        }
    };

    private final CollectionRegistry registry = new CollectionRegistry(BUNDLED);

    @BeforeEach
    void empty() throws SQLException {
        db.execute("delete from outbox");
        db.execute("delete from collections");
    }

    @Test
    void aNewCollectionTakesTheDefaultsAndTheBundledModelsDimensionsWithItsIndex() throws Exception {
        try (Connection c = db.connect()) {
            Collection made = registry.create(c, "notes", new CollectionSettings(null, null, null, null, null, null));
            assertThat(made.provider()).isEqualTo("onnx");
            assertThat(made.model()).isEqualTo("small");
            assertThat(made.dimensions()).isEqualTo(3);
            assertThat(made.chunkSizeTokens()).isEqualTo(CollectionSettings.DEFAULT_CHUNK_SIZE_TOKENS);
            assertThat(made.chunkTemplate()).isEqualTo("{title}\n{chunk}");
            assertThat(made.status()).isEqualTo("active");
        }
        assertThat(db.queryValue("select count(*) from pg_indexes where schemaname = current_schema() and indexname"
                        + " = (select 'chunk_embeddings_c' || id || '_idx' from collections where name = 'notes')"))
                .isEqualTo(1L);
    }

    @Test
    void aDuplicateNameIsRefusedAsExistingAndChangesNothing() throws Exception {
        try (Connection c = db.connect()) {
            registry.create(c, "notes", new CollectionSettings(null, "large", null, 64, 8, null));
            assertThatThrownBy(() ->
                            registry.create(c, "notes", new CollectionSettings(null, null, null, null, null, null)))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.reason()).isEqualTo(CollectionException.Reason.EXISTS));
        }
        assertThat(db.queryValue("select embedding_model || ' ' || chunk_size_tokens from collections"))
                .isEqualTo("large 64");
    }

    @Test
    void invalidSettingsAreRefusedNamingEveryFieldAtOnce() throws Exception {
        try (Connection c = db.connect()) {
            assertThatThrownBy(() -> registry.create(
                            c, "Bad Name", new CollectionSettings("onnx", "nope", null, 10, 10, "{title}")))
                    .isInstanceOfSatisfying(CollectionException.class, e -> {
                        assertThat(e.reason()).isEqualTo(CollectionException.Reason.INVALID);
                        assertThat(e.fieldErrors())
                                .containsOnlyKeys("name", "embedding_model", "chunk_overlap_tokens", "chunk_template");
                        assertThat(e.fieldErrors().get("embedding_model")).contains("'nope' is not a bundled model");
                    });
            assertThatThrownBy(() -> registry.create(
                            c, "remote", new CollectionSettings("openai", null, null, null, null, null)))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.fieldErrors()).containsOnlyKeys("embedding_model", "dimensions"));
            assertThatThrownBy(() -> registry.create(
                            c, "other", new CollectionSettings("word2vec", null, 3000, null, null, null)))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.fieldErrors()).containsOnlyKeys("embedding_provider", "dimensions"));
        }
        assertThat(db.queryValue("select count(*) from collections")).isEqualTo(0L);
    }

    @Test
    void theListCountsDocumentsByStatusWithTheLastErrorAndPagesByName() throws Exception {
        try (Connection c = db.connect()) {
            for (String name : List.of("b", "a", "c")) {
                registry.create(c, name, new CollectionSettings(null, null, null, null, null, null));
            }
            document(c, "a", "one", DocumentStatus.EMBEDDED, null);
            document(c, "a", "two", DocumentStatus.EMBEDDED, null);
            document(c, "a", "three", DocumentStatus.FAILED, "model refused the input");
            document(c, "a", "four", DocumentStatus.DELETED, null);

            List<CollectionSummary> first = registry.list(c, null, 2);
            assertThat(first).extracting(s -> s.collection().name()).containsExactly("a", "b");
            CollectionSummary a = first.get(0);
            assertThat(a.counts())
                    .containsEntry(DocumentStatus.EMBEDDED, 2L)
                    .containsEntry(DocumentStatus.FAILED, 1L)
                    .containsEntry(DocumentStatus.DELETED, 1L)
                    .containsEntry(DocumentStatus.CHUNKED, 0L)
                    .containsEntry(DocumentStatus.RECEIVED, 0L);
            assertThat(a.lastError()).isEqualTo("model refused the input");
            assertThat(a.createdAt()).isNotNull();
            assertThat(first.get(1).lastError()).isNull();
            assertThat(registry.list(c, "b", 2))
                    .extracting(s -> s.collection().name())
                    .containsExactly("c");
            assertThat(registry.get(c, "a").counts()).isEqualTo(a.counts());
            assertThatThrownBy(() -> registry.get(c, "zzz"))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.reason()).isEqualTo(CollectionException.Reason.NOT_FOUND));
        }
    }

    @Test
    void anUpdateChangesOnlyTheChunkingGivenAndKeepsTheOverlapBelowTheSize() throws Exception {
        try (Connection c = db.connect()) {
            registry.create(c, "notes", new CollectionSettings(null, null, null, 128, 16, null));
            Collection updated = registry.update(c, "notes", CollectionSettings.chunking(null, null, "{chunk}"));
            assertThat(updated.chunkSizeTokens()).isEqualTo(128);
            assertThat(updated.chunkTemplate()).isEqualTo("{chunk}");
            assertThatThrownBy(() -> registry.update(c, "notes", CollectionSettings.chunking(16, null, null)))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.fieldErrors()).containsOnlyKeys("chunk_overlap_tokens"));
            assertThatThrownBy(() -> registry.update(c, "nope", CollectionSettings.chunking(16, 1, null)))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.reason()).isEqualTo(CollectionException.Reason.NOT_FOUND));
        }
        assertThat(db.queryValue("select chunk_size_tokens from collections")).isEqualTo(128);
    }

    @Test
    void resumingAPausedCollectionAsksForTheEmbeddingsOfEveryWaitingDocumentOnce() throws Exception {
        try (Connection c = db.connect()) {
            registry.create(c, "notes", new CollectionSettings(null, null, null, null, null, null));
            document(c, "notes", "waiting", DocumentStatus.CHUNKED, null);
            document(c, "notes", "done", DocumentStatus.EMBEDDED, null);
            assertThat(registry.setStatus(c, "notes", CollectionStatus.PAUSED).requested())
                    .isZero();
            assertThat(registry.setStatus(c, "notes", CollectionStatus.PAUSED)
                            .collection()
                            .status())
                    .isEqualTo("paused");
            CollectionRegistry.StatusChange resumed = registry.setStatus(c, "notes", CollectionStatus.ACTIVE);
            assertThat(resumed.requested()).isEqualTo(1);
            assertThat(resumed.collection().status()).isEqualTo("active");
            assertThat(registry.setStatus(c, "notes", CollectionStatus.ACTIVE).requested())
                    .as("resuming an active collection changes nothing")
                    .isZero();
        }
        assertThat(db.queryValue("select string_agg(key, ',') from outbox where topic = 'embedding-requests'"))
                .isEqualTo("notes/waiting");
    }

    @Test
    void aCollectionBeingDeletedCannotBePausedOrResumed() throws Exception {
        try (Connection c = db.connect()) {
            registry.create(c, "notes", new CollectionSettings(null, null, null, null, null, null));
            db.execute("update collections set status = 'deleting'");
            assertThatThrownBy(() -> registry.setStatus(c, "notes", CollectionStatus.ACTIVE))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.reason()).isEqualTo(CollectionException.Reason.CONFLICT));
            assertThatThrownBy(() -> registry.setStatus(c, "gone", CollectionStatus.PAUSED))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.reason()).isEqualTo(CollectionException.Reason.NOT_FOUND));
        }
        assertThat(db.queryValue("select status from collections")).isEqualTo("deleting");
    }

    @Test
    void reembeddingACollectionDropsTheVectorsOfItsFinishedDocumentsAndAsksForAllAgain() throws Exception {
        try (Connection c = db.connect()) {
            registry.create(c, "notes", new CollectionSettings(null, null, null, null, null, null));
            registry.create(c, "other", new CollectionSettings(null, null, null, null, null, null));
            long embedded = document(c, "notes", "embedded", DocumentStatus.EMBEDDED, null);
            long failed = document(c, "notes", "failed", DocumentStatus.FAILED, "refused");
            long waiting = document(c, "notes", "waiting", DocumentStatus.CHUNKED, null);
            document(c, "notes", "deleted", DocumentStatus.DELETED, null);
            long elsewhere = document(c, "other", "embedded", DocumentStatus.EMBEDDED, null);
            vector(c, embedded);
            vector(c, waiting);
            vector(c, elsewhere);

            assertThat(Reembedding.collection(c, "notes")).isEqualTo(3);
        }
        assertThat(db.queryValue(
                        "select string_agg(d.external_id || ' ' || d.status || ' ' || coalesce(d.error, '-'), ','"
                                + " order by d.external_id) from documents d join collections k on k.id = d.collection_id"
                                + " where k.name = 'notes'"))
                .isEqualTo("deleted deleted -,embedded chunked -,failed chunked -,waiting chunked -");
        assertThat(db.queryValue("select string_agg(d.external_id || '@' || k.name, ',' order by k.name) from"
                        + " chunk_embeddings e join chunks ch on ch.id = e.chunk_id join documents d on d.id ="
                        + " ch.document_id join collections k on k.id = d.collection_id"))
                .as("a waiting document keeps the vector of a kept chunk; another collection is untouched")
                .isEqualTo("waiting@notes,embedded@other");
        assertThat(db.queryValue(
                        "select string_agg(key, ',' order by key) from outbox where topic =" + " 'embedding-requests'"))
                .isEqualTo("notes/embedded,notes/failed,notes/waiting");
        try (Connection c = db.connect()) {
            assertThatThrownBy(() -> Reembedding.collection(c, "nope"))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.reason()).isEqualTo(CollectionException.Reason.NOT_FOUND));
        }
    }

    @Test
    void reembeddingOneDocumentAsksForItAloneAndRefusesADeletedOrUnknownOne() throws Exception {
        long embedded;
        long deleted;
        try (Connection c = db.connect()) {
            registry.create(c, "notes", new CollectionSettings(null, null, null, null, null, null));
            embedded = document(c, "notes", "embedded", DocumentStatus.EMBEDDED, null);
            document(c, "notes", "other", DocumentStatus.EMBEDDED, null);
            deleted = document(c, "notes", "deleted", DocumentStatus.DELETED, null);
            vector(c, embedded);
            Reembedding.document(c, embedded);
            assertThatThrownBy(() -> Reembedding.document(c, deleted))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.reason()).isEqualTo(CollectionException.Reason.CONFLICT));
            assertThatThrownBy(() -> Reembedding.document(c, -1))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.reason()).isEqualTo(CollectionException.Reason.NOT_FOUND));
        }
        assertThat(db.queryValue("select count(*) from chunk_embeddings")).isEqualTo(0L);
        assertThat(db.queryValue("select payload::text from outbox"))
                .isEqualTo("{\"id\": \"embedded\", \"version\": 1, \"document\": " + embedded
                        + ", \"collection\": \"notes\", \"schema_version\": 1}");
    }

    @Test
    void deletingACollectionTakesItsDocumentsAndIndexAndAnUnknownOneIsNotFound() throws Exception {
        try (Connection c = db.connect()) {
            registry.create(c, "notes", new CollectionSettings(null, null, null, null, null, null));
            vector(c, document(c, "notes", "one", DocumentStatus.EMBEDDED, null));
            registry.delete(c, "notes");
            assertThatThrownBy(() -> registry.delete(c, "notes"))
                    .isInstanceOfSatisfying(
                            CollectionException.class,
                            e -> assertThat(e.reason()).isEqualTo(CollectionException.Reason.NOT_FOUND));
        }
        assertThat(db.queryValue("select count(*) from documents")).isEqualTo(0L);
        assertThat(db.queryValue("select count(*) from chunk_embeddings")).isEqualTo(0L);
        assertThat(db.queryValue("select count(*) from pg_indexes where schemaname = current_schema() and indexname"
                        + " like 'chunk_embeddings_c%_idx'"))
                .isEqualTo(0L);
    }

    /** A document of {@code collection} in {@code status}, version 1, with one chunk. */
    private static long document(Connection c, String collection, String id, DocumentStatus status, String error)
            throws SQLException {
        long document;
        try (PreparedStatement s = c.prepareStatement(
                "insert into documents (collection_id, external_id, version,"
                        + " status, error, chunk_count) select id, ?, 1, ?, ?, 1 from collections where name = ? returning id")) {
            s.setString(1, id);
            s.setString(2, status.stored());
            s.setString(3, error);
            s.setString(4, collection);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                document = rs.getLong(1);
            }
        }
        try (PreparedStatement s = c.prepareStatement("insert into chunks (document_id, collection_id,"
                + " document_version, seq, content, token_count) select id, collection_id, 1, 0, 'text', 1 from"
                + " documents where id = ?")) {
            s.setLong(1, document);
            s.executeUpdate();
        }
        return document;
    }

    /** A vector for the chunk of {@code document}. */
    private static void vector(Connection c, long document) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "insert into chunk_embeddings (chunk_id, collection_id,"
                        + " embedding, model) select id, collection_id, '[1,2,3]', 'small' from chunks where document_id = ?")) {
            s.setLong(1, document);
            s.executeUpdate();
        }
    }
}
