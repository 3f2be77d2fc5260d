package io.ragline.core.collections;

import io.ragline.contracts.status.CollectionStatus;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.outbox.Outbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The pipeline registry: creates, lists (with document counts and the last error), updates,
 * pauses, resumes and deletes collections. The one home of these changes for {@code ragline
 * collections} and the HTTP API. Each method works in the caller's connection and transaction
 * (the caller commits); a refused change throws {@link CollectionException} before changing
 * anything. Creating, reindexing and deleting a collection is DDL (its vector index): the schema
 * owner's.
 */
public final class CollectionRegistry {
    private static final String COUNTS = java.util.Arrays.stream(DocumentStatus.values())
            .map(s -> "count(*) filter (where d.status = '" + s.stored() + "')")
            .collect(Collectors.joining(", "));

    private static final String SUMMARY = "select " + CollectionCatalog.COLUMNS + ","
            + " coalesce(c.last_error, (select f.error from documents f where f.collection_id = c.id and f.status"
            + " = 'failed' order by f.updated_at desc limit 1)), c.created_at, c.updated_at,"
            + " collection_index_built(c.id),"
            + " n.* from collections c"
            + " cross join lateral (select " + COUNTS + " from documents d where d.collection_id = c.id) n";

    private final CollectionSettings.BundledModels onnx;

    /** @param onnx the models the ONNX provider bundles (embeddings' {@code ModelCatalog.bundled()}) */
    public CollectionRegistry(CollectionSettings.BundledModels onnx) {
        this.onnx = onnx;
    }

    /** {@link #create(Connection, String, CollectionSettings, IndexBuild)} with its index at once. */
    public Collection create(Connection c, String name, CollectionSettings asked)
            throws SQLException, CollectionException {
        return create(c, name, asked, IndexBuild.AT_ONCE);
    }

    /**
     * Creates collection {@code name} with its search index: the database builds an HNSW index at
     * once (trigger {@code collection_created}) unless {@code build} is {@link IndexBuild#AFTER_LOAD}
     * (then, in a transaction of the caller's: {@link IndexBuild#apply}), an IVFFlat one when
     * {@link #reindex} is asked once the collection has vectors.
     *
     * @throws CollectionException INVALID (naming each field), or EXISTS
     */
    public Collection create(Connection c, String name, CollectionSettings asked, IndexBuild build)
            throws SQLException, CollectionException {
        CollectionSettings s = asked.forNew(name, onnx);
        build.apply(c);
        SearchIndex index = s.index();
        if (!textConfigExists(c, index.textConfig())) {
            throw CollectionException.invalid(Map.of(
                    "text_config", "'" + index.textConfig() + "' is not a text search configuration of this database"));
        }
        try (PreparedStatement insert = c.prepareStatement("insert into collections (name, embedding_provider,"
                + " embedding_model, dimensions, chunk_size_tokens, chunk_overlap_tokens, chunk_template, distance,"
                + " index_type, index_options, vector_storage, text_search_config)"
                + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?) on conflict (name) do nothing")) {
            insert.setString(1, name);
            insert.setString(2, s.provider());
            insert.setString(3, s.model());
            insert.setInt(4, s.dimensions());
            insert.setInt(5, s.chunkSizeTokens());
            insert.setInt(6, s.chunkOverlapTokens());
            insert.setString(7, s.chunkTemplate());
            insert.setString(8, index.distance());
            insert.setString(9, index.type());
            insert.setString(10, index.optionsJson());
            insert.setString(11, index.storage());
            insert.setString(12, index.textConfig());
            if (insert.executeUpdate() == 0) {
                throw CollectionException.exists(name);
            }
        }
        return CollectionCatalog.stored(c, name);
    }

    /**
     * Every collection by name, after {@code afterName} (null: from the first), at most {@code
     * limit}, each with its running migration.
     */
    public List<CollectionSummary> list(Connection c, String afterName, int limit) throws SQLException {
        List<CollectionSummary> out = new ArrayList<>();
        try (PreparedStatement s =
                c.prepareStatement(SUMMARY + " where c.name > coalesce(?, '') order by c.name limit ?")) {
            s.setString(1, afterName);
            s.setInt(2, limit);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(summary(rs));
                }
            }
        }
        for (int i = 0; i < out.size(); i++) {
            out.set(i, withMigration(c, out.get(i)));
        }
        return out;
    }

    private static CollectionSummary withMigration(Connection c, CollectionSummary s) throws SQLException {
        return CollectionMigrations.progress(c, s.collection().id())
                .map(s::migrating)
                .orElse(s);
    }

    /** Collection {@code name} with its counts and running migration. @throws CollectionException NOT_FOUND */
    public CollectionSummary get(Connection c, String name) throws SQLException, CollectionException {
        CollectionSummary summary;
        try (PreparedStatement s = c.prepareStatement(SUMMARY + " where c.name = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw notFound(name);
                }
                summary = summary(rs);
            }
        }
        return withMigration(c, summary);
    }

    /**
     * Changes the chunking of {@code name} (null fields unchanged). Documents published afterwards
     * are cut with it; those stored keep their chunks until published again.
     *
     * @throws CollectionException NOT_FOUND, or INVALID (an overlap not below the size it ends up with)
     */
    public Collection update(Connection c, String name, CollectionSettings chunking)
            throws SQLException, CollectionException {
        CollectionSettings s = chunking.over(locked(c, name));
        try (PreparedStatement u = c.prepareStatement("update collections set chunk_size_tokens = ?,"
                + " chunk_overlap_tokens = ?, chunk_template = ?, updated_at = now() where name = ?")) {
            u.setInt(1, s.chunkSizeTokens());
            u.setInt(2, s.chunkOverlapTokens());
            u.setString(3, s.chunkTemplate());
            u.setString(4, name);
            u.executeUpdate();
        }
        return CollectionCatalog.stored(c, name);
    }

    /**
     * Drops and builds again the vector index of {@code name} from the vectors it has now (the
     * schema owner's: DDL). An IVFFlat index is first built this way once the collection is loaded
     * (its lists are trained on the rows present), and rebuilt when the data has drifted; an HNSW
     * one is rebuilt whole, or built for the first time after a load ({@link IndexBuild#AFTER_LOAD}).
     * Vector writes to every collection wait while it builds. While a running migration's generation
     * lacks its index (the embedding-worker's login may not build it) that index is the one built:
     * an IVFFlat one once the generation is complete, an HNSW one at any time; the switch follows by
     * itself once the generation is complete.
     *
     * @return the index's name, or null when an IVFFlat collection has no vector yet (nothing to train on)
     * @throws CollectionException NOT_FOUND
     */
    public String reindex(Connection c, String name) throws SQLException, CollectionException {
        // collection_reindex locks the row FOR NO KEY UPDATE (not FOR UPDATE, which would stop the
        // ingest-worker's FOR KEY SHARE of every document it writes for the whole build).
        Collection stored = CollectionCatalog.stored(c, name);
        if (stored == null) {
            throw notFound(name);
        }
        int id = stored.id();
        Integer waiting = null;
        // A running migration's generation without its index: an IVFFlat one once complete (trained on
        // its vectors); an HNSW one (asked for after the load) at any time, vectors still to come go
        // into it one by one. Without a migration the progress is one row of nulls: the CASE keeps
        // collection_index_missing from being asked about a null generation.
        try (PreparedStatement s = c.prepareStatement("select p.generation from collection_migration_progress(?) p"
                + " join collections k on k.id = ? where case when p.generation is null then false"
                + " else (p.done >= p.needed or k.index_type = 'hnsw') and collection_index_missing(?, p.generation)"
                + " end")) {
            s.setInt(1, id);
            s.setInt(2, id);
            s.setInt(3, id);
            try (ResultSet rs = s.executeQuery()) {
                waiting = rs.next() ? rs.getInt(1) : null;
            }
        }
        try (PreparedStatement s = c.prepareStatement("select collection_reindex(?, ?)")) {
            s.setInt(1, id);
            s.setObject(2, waiting, java.sql.Types.INTEGER);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** What {@link #setStatus} did: the collection now, and the embedding requests written. */
    public record StatusChange(Collection collection, int requested) {}

    /**
     * Pauses or resumes {@code name}. Paused: the ingest-worker still stores and chunks its
     * documents, the embedding-worker skips their requests (they stay {@code chunked}). Resumed
     * ({@code active}): in the same transaction, a new embedding request for every {@code
     * chunked} document ({@link Outbox#requestEmbeddings}) and, while a migration runs, for every
     * {@code embedded} one (its backfill's requests were skipped while paused; a document that has
     * its vectors already writes nothing). Asking for the status it has changes nothing.
     *
     * @throws CollectionException NOT_FOUND, or CONFLICT when its status may not change to {@code target}
     */
    public StatusChange setStatus(Connection c, String name, CollectionStatus target)
            throws SQLException, CollectionException {
        CollectionStatus now = CollectionStatus.fromStored(locked(c, name).status());
        if (now == target) {
            return new StatusChange(CollectionCatalog.stored(c, name), 0);
        }
        if (!now.canMoveTo(target)) {
            throw CollectionException.conflict("collection '" + name + "' is " + now + ": it cannot become " + target);
        }
        try (PreparedStatement u =
                c.prepareStatement("update collections set status = ?, updated_at = now() where name = ?")) {
            u.setString(1, target.stored());
            u.setString(2, name);
            u.executeUpdate();
        }
        int requested = 0;
        if (target == CollectionStatus.ACTIVE) {
            requested = Outbox.requestEmbeddings(c, name);
            if (CollectionMigrations.migrating(c, name)) { // the backfill's requests were skipped while it was paused
                requested += Outbox.requestEmbeddings(c, name, DocumentStatus.EMBEDDED);
            }
        }
        return new StatusChange(CollectionCatalog.stored(c, name), requested);
    }

    /**
     * Deletes {@code name} with its documents, chunks and vectors (they cascade); the triggers
     * {@code collection_index_dropped} and {@code collection_text_index_dropped} drop its indexes.
     *
     * @throws CollectionException NOT_FOUND
     */
    public void delete(Connection c, String name) throws SQLException, CollectionException {
        try (PreparedStatement s = c.prepareStatement("delete from collections where name = ?")) {
            s.setString(1, name);
            if (s.executeUpdate() == 0) {
                throw notFound(name);
            }
        }
    }

    /** Collection {@code name}, its row locked for the rest of the transaction. */
    static Collection locked(Connection c, String name) throws SQLException, CollectionException {
        return locked(c, name, "for update");
    }

    /**
     * Collection {@code name}, its row locked {@code FOR NO KEY UPDATE} for the rest of the
     * transaction: a migrate, rollback or prune excludes another on the collection but not the
     * ingest-worker's {@code FOR KEY SHARE} of it, so documents keep arriving while it runs.
     */
    static Collection lockedNoKey(Connection c, String name) throws SQLException, CollectionException {
        return locked(c, name, "for no key update");
    }

    private static Collection locked(Connection c, String name, String lock) throws SQLException, CollectionException {
        try (PreparedStatement s = c.prepareStatement("select id from collections where name = ? " + lock)) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw notFound(name);
                }
            }
        }
        return CollectionCatalog.stored(c, name);
    }

    static CollectionException notFound(String name) {
        return CollectionException.notFound("no collection named '" + name + "'");
    }

    private static boolean textConfigExists(Connection c, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select text_search_config_name(?) is not null")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static CollectionSummary summary(ResultSet rs) throws SQLException {
        int after = CollectionCatalog.COLUMN_COUNT;
        Map<DocumentStatus, Long> counts = new EnumMap<>(DocumentStatus.class);
        DocumentStatus[] statuses = DocumentStatus.values();
        for (int i = 0; i < statuses.length; i++) {
            counts.put(statuses[i], rs.getLong(after + 5 + i));
        }
        return new CollectionSummary(
                CollectionCatalog.read(rs),
                counts,
                rs.getString(after + 1),
                instant(rs.getTimestamp(after + 2)),
                instant(rs.getTimestamp(after + 3)),
                rs.getBoolean(after + 4),
                null);
    }

    private static java.time.Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
