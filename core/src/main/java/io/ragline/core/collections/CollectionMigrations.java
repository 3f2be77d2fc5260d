package io.ragline.core.collections;

import io.ragline.contracts.pipeline.CollectionEvent;
import io.ragline.contracts.pipeline.PipelineEventCodec;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.outbox.Outbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Migrating a collection to another embedding model without downtime (docs/architecture.md
 * section 11, "Embedding generations"): the one home of {@code ragline collections migrate,
 * rollback, prune} and the console's API, and of the switch the embedding-worker makes. Each method
 * works in the caller's connection and transaction (the caller commits) and throws {@link
 * CollectionException} before changing anything when the request is refused. The mechanics are
 * the SQL functions of migration V26.
 */
public final class CollectionMigrations {
    private static final PipelineEventCodec EVENTS = new PipelineEventCodec();

    private final CollectionSettings.BundledModels onnx;

    /** @param onnx the models the ONNX provider bundles (embeddings' {@code ModelCatalog.bundled()}) */
    public CollectionMigrations(CollectionSettings.BundledModels onnx) {
        this.onnx = onnx;
    }

    /**
     * A migration's state: the generation being built, its model, its {@code unit}s done of those
     * needed ({@code vectors} when it keeps the chunking; {@code documents} when it has a chunking of
     * its own: searchable documents, and those cut again with every new chunk's vector), and whether,
     * complete, it waits for its vector index (an IVFFlat one, trained on the complete vectors, or one
     * asked for after the load, {@link IndexBuild#AFTER_LOAD}: the schema owner's {@code ragline collections reindex NAME} builds it, then the
     * embedding-worker switches), and the current document versions its model refused (the
     * migration cannot complete while they lack vectors), with the latest as {@code id: error}.
     */
    public record Progress(
            int generation,
            String model,
            long done,
            long needed,
            boolean waitsForIndex,
            long refused,
            String lastRefusal,
            String unit) {
        /** A migration counted in vectors (one that keeps the chunking). */
        public Progress(
                int generation,
                String model,
                long done,
                long needed,
                boolean waitsForIndex,
                long refused,
                String lastRefusal) {
            this(generation, model, done, needed, waitsForIndex, refused, lastRefusal, "vectors");
        }

        /** Every searchable chunk has its vector of the building generation. */
        public boolean complete() {
            return done >= needed;
        }

        /** What an operator reads about documents the new model refused. */
        public String refusalAdvice(String collection) {
            return refused + " document(s) refused by " + model + " (latest: " + lastRefusal + "); the migration"
                    + " cannot complete until each is published again in a form the model accepts, or deleted"
                    + " (or `ragline collections rollback " + collection + "` stops it)";
        }

        /** What an operator reads about a migration waiting for its index. */
        public String indexAdvice(String collection) {
            return "waiting for its index: run `ragline collections reindex " + collection + "` as the schema owner"
                    + " (an IVFFlat index is trained on the complete vectors, and an index asked for after the load"
                    + " is built once over them: a build the embedding-worker does not make, as its login may not"
                    + " and its statements are cut after its socket timeout); the switch follows by itself";
        }
    }

    /**
     * What one switch check found: the event written when it switched, else the progress of a
     * complete migration (empty when none runs, when a chunk still lacks its new vector, or when
     * another worker is checking the collection) and whether the switch waits for its index (the
     * schema owner's {@code ragline collections reindex NAME} builds it); {@code skipped} when another worker was checking it.
     */
    public record SwitchCheck(
            Optional<CollectionEvent> switched, Optional<Progress> progress, boolean blocked, boolean skipped) {
        SwitchCheck(Optional<CollectionEvent> switched, Optional<Progress> progress, boolean blocked) {
            this(switched, progress, blocked, false);
        }

        /** Another worker is checking the collection: nothing was learnt. */
        static SwitchCheck anotherChecks() {
            return new SwitchCheck(Optional.empty(), Optional.empty(), false, true);
        }
    }

    /**
     * What {@link #migrate} did: the building generation, and the backfill requests written or, when
     * it has a chunking of its own ({@code recut}), the documents the embedding-worker cuts again.
     */
    public record Started(Collection collection, Generation building, int requested, boolean recut) {}

    /** {@link #migrate(Connection, String, String, String, Integer, Integer, Integer)} keeping the chunking. */
    public Started migrate(Connection c, String name, String provider, String model, Integer dimensions)
            throws SQLException, CollectionException {
        return migrate(c, name, provider, model, dimensions, null, null);
    }

    /** {@link #migrate(Connection, String, String, String, Integer, Integer, Integer, IndexBuild)}, its index at once. */
    public Started migrate(
            Connection c,
            String name,
            String provider,
            String model,
            Integer dimensions,
            Integer chunkSize,
            Integer chunkOverlap)
            throws SQLException, CollectionException {
        return migrate(c, name, provider, model, dimensions, chunkSize, chunkOverlap, IndexBuild.AT_ONCE);
    }

    /**
     * Starts migrating collection {@code name} to {@code provider}/{@code model} (null provider: the
     * collection's; null model: the collection's, with its provider and dimensions; null dimensions:
     * the bundled model's, required for the other providers) and to the chunking {@code chunkSize} /
     * {@code chunkOverlap} (both null: the serving one; a size alone keeps the serving overlap when it
     * is below the size, else takes an eighth of it): a building generation with its index, or
     * without it when {@code build} is {@link IndexBuild#AFTER_LOAD} (in a transaction of the
     * caller's): then the switch waits for the schema owner's {@code ragline collections reindex
     * NAME} once the backfill is complete, and the backfill's vectors are not inserted into an HNSW
     * graph one by one.
     *
     * <p>With the serving chunking (a model migration) the new generation shares the serving chunks,
     * and an embedding request goes into the outbox for every {@code embedded} and {@code chunked}
     * document (the backfill); {@code requested} counts them. With a chunking of its own the
     * embedding-worker cuts each searchable document again from its kept text ({@code
     * document_texts}) and asks for its vectors then; {@code requested} counts the documents to cut.
     * Refused while any searchable document has no kept text (it was stored before Ragline kept
     * texts): it must be published again first. The embedding-worker writes the new vectors beside
     * the serving ones and switches when none lacks.
     *
     * @throws CollectionException NOT_FOUND; INVALID (an unknown model, dimensions not the model's,
     *     nothing that differs from what it serves with, a bad chunking); CONFLICT (a migration of
     *     it is running, documents without kept text)
     */
    public Started migrate(
            Connection c,
            String name,
            String provider,
            String model,
            Integer dimensions,
            Integer chunkSize,
            Integer chunkOverlap,
            IndexBuild build)
            throws SQLException, CollectionException {
        Collection stored = CollectionRegistry.lockedNoKey(c, name);
        if (model == null && (provider != null || dimensions != null)) {
            throw CollectionException.invalid(Map.of(
                    "embedding_model",
                    "is required with a provider or dimensions (without a model the migration keeps the"
                            + " collection's, " + stored.provider() + "/" + stored.model() + ")"));
        }
        boolean sameModel = model == null;
        CollectionSettings asked = sameModel
                ? new CollectionSettings(stored.provider(), stored.model(), stored.dimensions(), null, null, null)
                : new CollectionSettings(
                                provider == null ? stored.provider() : provider, model, dimensions, null, null, null)
                        .forNew(name, onnx);
        int[] chunking = MigrationChunkings.chunking(stored, chunkSize, chunkOverlap);
        boolean rechunk = chunking != null;
        if (asked.provider().equals(stored.provider())
                && asked.model().equals(stored.model())
                && asked.dimensions().equals(stored.dimensions())
                && !rechunk) {
            throw CollectionException.invalid(Map.of(
                    "embedding_model",
                    "collection '" + name + "' already serves with " + stored.provider() + "/" + stored.model() + " ("
                            + stored.dimensions() + " dimensions) and chunks of " + stored.chunkSizeTokens()
                            + " tokens overlapping by " + stored.chunkOverlapTokens() + ": nothing to migrate"));
        }
        Optional<Generation> running = building(c, stored.id());
        if (running.isPresent()) {
            throw CollectionException.conflict("a migration of collection '" + name + "' to "
                    + running.get().model() + " (generation " + running.get().number()
                    + ") is running: wait for its switch, or stop it with collections rollback");
        }
        if (rechunk && MigrationChunkings.liveChunking(c, stored.id(), chunking[0], chunking[1]) == null) {
            MigrationChunkings.refuseWithoutText(
                    c, stored); // a new chunking: every document is cut again from its text
        }
        int number;
        build.apply(c);
        try (PreparedStatement s = c.prepareStatement("select collection_migrate(?, ?, ?, ?, ?, ?)")) {
            s.setInt(1, stored.id());
            s.setString(2, asked.provider());
            s.setString(3, asked.model());
            s.setInt(4, asked.dimensions());
            s.setObject(5, rechunk ? chunking[0] : null, java.sql.Types.INTEGER);
            s.setObject(6, rechunk ? chunking[1] : null, java.sql.Types.INTEGER);
            number = single(s);
        }
        Generation made = building(c, stored.id()).orElseThrow();
        if (made.number() != number) {
            throw new IllegalStateException("generation " + number + " was made, " + made.number() + " is building");
        }
        int requested;
        // A new chunking (numbered as its generation); a kept generation's, taken again, has its chunks.
        boolean recut = made.chunking() == made.number()
                && made.chunking() != MigrationChunkings.servingChunking(c, stored.id());
        if (recut) {
            // The embedding-worker cuts these documents for the new chunking (chunking_owed) and asks
            // for their vectors then: a request now would find no chunk of it.
            requested = MigrationChunkings.searchableDocuments(c, stored.id());
        } else {
            // The chunked documents too: a request read before this commit writes no vector of the new
            // generation, and its document may be embedded after this statement's snapshot.
            requested = Outbox.requestEmbeddings(c, name, DocumentStatus.EMBEDDED)
                    + Outbox.requestEmbeddings(c, name, DocumentStatus.CHUNKED);
        }
        return new Started(stored, made, requested, recut);
    }

    /** The running migration of collection {@code name}, if any. @throws CollectionException NOT_FOUND */
    public Optional<Progress> progress(Connection c, String name) throws SQLException, CollectionException {
        Collection stored = CollectionCatalog.stored(c, name);
        if (stored == null) {
            throw CollectionRegistry.notFound(name);
        }
        return progress(c, stored.id());
    }

    /** The running migration of the collection with id {@code collectionId}, if any. */
    static Optional<Progress> progress(Connection c, int collectionId) throws SQLException {
        // A refusal counts while it is of the document's current version and the document is not deleted.
        try (PreparedStatement s = c.prepareStatement("select p.generation, g.embedding_model, p.done, p.needed,"
                + " p.done >= p.needed and collection_index_missing(g.collection_id, p.generation), r.n, r.latest, p.unit"
                + " from collection_migration_progress(?) p join collection_generations g on g.collection_id = ? and"
                + " g.generation = p.generation cross join lateral (select count(*) n, (array_agg(d.external_id || ': '"
                + " || f.error order by f.refused_at desc))[1] latest from generation_refusals f join documents d on"
                + " d.id = f.document_id and d.version = f.document_version and d.status <> 'deleted' where"
                + " f.collection_id = g.collection_id and f.generation = g.generation) r")) {
            s.setInt(1, collectionId);
            s.setInt(2, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next()
                        ? Optional.of(new Progress(
                                rs.getInt(1),
                                rs.getString(2),
                                rs.getLong(3),
                                rs.getLong(4),
                                rs.getBoolean(5),
                                rs.getLong(6),
                                rs.getString(7),
                                rs.getString(8)))
                        : Optional.empty();
            }
        }
    }

    /**
     * Switches collection {@code collectionId} to its building generation if no searchable chunk
     * lacks a vector of it, and writes {@code collection.migrated}; the embedding-worker asks
     * periodically. One worker checks a collection at a time (a transaction-level advisory lock:
     * the others skip it). A migration whose switch waits for its index (an IVFFlat generation with
     * vectors and no index, or an HNSW one left for after the load: {@code
     * collection_migration_awaits_index}, no count) is reported, with
     * its progress counted, without locking any row, whatever the login: the schema owner's {@code
     * ragline collections reindex NAME} builds that index on a connection meant for long statements,
     * and a later check switches. Otherwise it asks whether any chunk still lacks its new vector,
     * stopping at the first; when none does, it locks the collection's generation rows FOR UPDATE
     * (a vector write holds them FOR KEY SHARE until it commits) and asks only that again under the
     * lock, so a write committed before the lock is seen and one after it sees the new serving
     * generation. The progress is counted before any lock, for display.
     */
    public static SwitchCheck switchIfComplete(Connection c, int collectionId) throws SQLException {
        // One worker checks a collection at a time; the others skip it until their next interval.
        if (!checkLock(c, collectionId)) {
            return SwitchCheck.anotherChecks();
        }
        boolean awaitsIndex = awaitsIndex(c, collectionId);
        // Stops at the first chunk missing its new vector: the count runs only once none is missing.
        if (incomplete(c, collectionId)) {
            return new SwitchCheck(Optional.empty(), Optional.empty(), false);
        }
        Optional<Progress> p = progress(c, collectionId);
        if (p.isEmpty() || awaitsIndex) {
            return new SwitchCheck(
                    Optional.empty(), p, p.map(Progress::waitsForIndex).orElse(false));
        }
        try (PreparedStatement s = c.prepareStatement("select 1 from collections where id = ? for no key update")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return new SwitchCheck(Optional.empty(), Optional.empty(), false);
                }
            }
        }
        lockGenerations(c, collectionId);
        // Under the lock only the check that stops at the first missing vector, and the index's (a
        // vector written since the first check may make an IVFFlat generation need one).
        if (incomplete(c, collectionId)) {
            return new SwitchCheck(Optional.empty(), Optional.empty(), false);
        }
        if (awaitsIndex(c, collectionId)) {
            return new SwitchCheck(Optional.empty(), p, true);
        }
        return new SwitchCheck(
                Optional.of(switchTo(c, collectionId, p.get().generation(), CollectionEvent.Reason.SWITCH)), p, false);
    }

    /**
     * Locks collection {@code collectionId}'s generation rows FOR UPDATE: it waits for the vector
     * writes under way (each holds them FOR KEY SHARE until it commits, having read their states
     * under that lock), and writes after it read the states this transaction leaves.
     */
    private static void lockGenerations(Connection c, int collectionId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "select 1 from collection_generations where collection_id = ? order by generation for update")) {
            s.setInt(1, collectionId);
            s.executeQuery().close();
        }
    }

    /** Whether a searchable chunk lacks its building generation's vector (false: none, or no migration). */
    private static boolean incomplete(Connection c, int collectionId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select collection_migration_incomplete(?)")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static boolean awaitsIndex(Connection c, int collectionId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select collection_migration_awaits_index(?)")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Takes the lock under which one worker at a time checks or sweeps collection {@code
     * collectionId}'s generations (a transaction-level advisory lock); false when another holds it.
     */
    static boolean checkLock(Connection c, int collectionId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "select pg_try_advisory_xact_lock(hashtext(current_schema() || '.collection_migration_check'), ?)")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Every collection with a building generation (a migration running), by id. */
    public static List<Integer> migrating(Connection c) throws SQLException {
        List<Integer> out = new java.util.ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
                        "select collection_id from collection_generations where state = 'building' order by 1");
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getInt(1));
            }
        }
        return out;
    }

    /** Whether collection {@code name} has a building generation (a migration running). */
    public static boolean migrating(Connection c, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select 1 from collections k join collection_generations g on"
                + " g.collection_id = k.id and g.state = 'building' where k.name = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** What {@link #rollback} did: the generation stopped (a running migration), or the switch back. */
    public record RolledBack(Generation abandoned, CollectionEvent switched) {}

    /**
     * Rolls collection {@code name} back: a running migration is stopped (its building generation's
     * vectors and index deleted); otherwise the latest kept generation serves again (the
     * embedding-worker kept writing its vectors; checked: one that lacks a searchable chunk's vector
     * is refused) and {@code collection.migrated} says so.
     *
     * @throws CollectionException NOT_FOUND, or CONFLICT when there is nothing to roll back to or
     *     the kept generation lacks vectors
     */
    public RolledBack rollback(Connection c, String name) throws SQLException, CollectionException {
        Collection stored = MigrationChunkings.lockedForDrop(c, name, false);
        // As the switch does: a vector write under way (its generation rows held FOR KEY SHARE) has
        // committed before the completeness check below, and one after this lock sees the new states.
        lockGenerations(c, stored.id());
        List<Generation> all = Generation.of(c, stored.id());
        Optional<Generation> running = building(c, stored.id());
        if (running.isPresent()) {
            drop(c, running.get());
            return new RolledBack(running.get(), null);
        }
        Generation kept = all.stream()
                .filter(g -> g.state() == GenerationState.KEPT)
                .reduce((a, b) -> b) // the latest
                .orElseThrow(() -> CollectionException.conflict("collection '" + name + "' has no kept generation"
                        + " to roll back to (it was never migrated, or collections prune deleted it)"));
        try (PreparedStatement s = c.prepareStatement("select collection_generation_incomplete(?, ?)")) {
            s.setInt(1, stored.id());
            s.setInt(2, kept.number());
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) {
                    throw CollectionException.conflict("collection '" + name + "': generation " + kept.number()
                            + " (" + kept.model() + ") lacks the vectors of some searchable chunks (its model refused"
                            + " them, or no embedding-worker could run it), which it would hide from search; publish"
                            + " those documents again, or migrate to " + kept.model() + " instead");
                }
            }
        }
        return new RolledBack(null, switchTo(c, stored.id(), kept.number(), CollectionEvent.Reason.ROLLBACK));
    }

    /**
     * Deletes the kept generations of collection {@code name}: their vectors and indexes. A kept
     * generation a deployed classifier was trained on (it scores that generation's vectors) is
     * refused, naming the model, unless {@code force}: then that model predicts nothing until the
     * project is trained again.
     *
     * @return the vectors deleted
     * @throws CollectionException NOT_FOUND, or CONFLICT when none is kept or a deployed model
     *     depends on one
     */
    public long prune(Connection c, String name, boolean force) throws SQLException, CollectionException {
        Collection stored = MigrationChunkings.lockedForDrop(c, name, true);
        List<Generation> kept = Generation.of(c, stored.id()).stream()
                .filter(g -> g.state() == GenerationState.KEPT)
                .toList();
        if (kept.isEmpty()) {
            throw CollectionException.conflict("collection '" + name + "' has no kept generation to prune");
        }
        if (!force) {
            GenerationDependants.refuseIfAny(c, name, kept);
        }
        long deleted = 0;
        for (Generation g : kept) {
            deleted += drop(c, g);
        }
        return deleted;
    }

    private static long drop(Connection c, Generation g) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select collection_drop_generation(?, ?)")) {
            s.setInt(1, g.collectionId());
            s.setInt(2, g.number());
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static CollectionEvent switchTo(Connection c, int collectionId, int to, CollectionEvent.Reason reason)
            throws SQLException {
        int from;
        try (PreparedStatement s = c.prepareStatement("select collection_switch_generation(?, ?)")) {
            s.setInt(1, collectionId);
            s.setInt(2, to);
            from = single(s);
        }
        List<Generation> all = Generation.of(c, collectionId);
        Generation now = all.stream().filter(g -> g.number() == to).findFirst().orElseThrow();
        Generation before =
                all.stream().filter(g -> g.number() == from).findFirst().orElseThrow();
        String name;
        try (PreparedStatement s = c.prepareStatement("select name from collections where id = ?")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                name = rs.getString(1);
            }
        }
        CollectionEvent event = new CollectionEvent(
                name, now.number(), now.model(), now.dimensions(), before.number(), before.model(), reason);
        Outbox.append(c, EVENTS, event);
        return event;
    }

    static Optional<Generation> building(Connection c, int collectionId) throws SQLException {
        return Generation.of(c, collectionId).stream()
                .filter(g -> g.state() == GenerationState.BUILDING)
                .findFirst();
    }

    static int single(PreparedStatement s) throws SQLException {
        try (ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
