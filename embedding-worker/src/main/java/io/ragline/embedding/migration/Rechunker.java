package io.ragline.embedding.migration;

import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.core.collections.Chunking;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.outbox.Outbox;
import io.ragline.embeddings.chunking.ChunkWriter;
import io.ragline.embeddings.chunking.DocumentChunker;
import io.ragline.embeddings.chunking.ModelTokenCounter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Cuts the documents a live chunking lacks (docs/architecture.md section 11, "Chunkings"): those
 * stored before a migration to a new chunk size began, and any an ingest transaction in flight at a
 * migrate or a switch cut without it. Each is cut from its kept text ({@code document_texts}) and title with the
 * ingest-worker's own chunker (the collection's serving model's tokenizer, the template, the new
 * size and overlap), its chunks inserted under its row lock ({@code chunking_owed} locks it, {@code
 * SKIP LOCKED}: a document an ingest is writing is left to that ingest, which cuts every live
 * chunking), and its vectors asked for through the outbox in the same transaction. The worker walks
 * each collection in batches ({@link #walk}), where its walk stands and when the next is due kept in
 * {@link RechunkPasses}.
 */
final class Rechunker {
    private static final EmbeddingRequestCodec REQUESTS = new EmbeddingRequestCodec();

    private final Function<Collection, DocumentChunker> chunkers;
    private final RechunkPasses passes;

    Rechunker(RechunkPasses passes) {
        this.chunkers = new ModelTokenCounter.Chunkers();
        this.passes = passes;
    }

    private record Owed(long id, int chunking) {}

    /**
     * One batch: the (document, chunking) pairs {@code chunking_owed} gave and that were cut, and the
     * last document id among them (-1 when none): the next batch of the pass starts there.
     */
    record Batch(int cut, long last) {
        static final Batch NONE = new Batch(0, -1);
    }

    private record Text(String externalId, long version, String title, String content) {}

    /**
     * Goes on with this worker's walk through collection {@code collection} ({@link RechunkPasses}:
     * a new walk only when one is due, or after a sweep's pass that began at {@code forcedSince}
     * unless a walk ended since), {@code batchSize} documents' chunkings to a transaction of its own
     * on {@code c}, until the walk ends or {@code until} ({@link System#nanoTime()}) has passed (the
     * next check goes on); returns the chunkings cut. Nothing while the collection has one chunking.
     */
    int walk(
            Connection c,
            int collection,
            OptionalLong forcedSince,
            BooleanSupplier keepGoing,
            int batchSize,
            long until)
            throws SQLException {
        List<Chunking> live = Chunking.live(c, collection);
        if (live.size() < 2) {
            return 0; // one chunking: nothing lacks one (a model migration, or none)
        }
        // In number order: a switch, which puts another chunking first in Chunking.live, changes nothing here.
        String chunkings = live.stream()
                .map(Chunking::number)
                .sorted()
                .map(String::valueOf)
                .collect(Collectors.joining(","));
        int total = 0;
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            boolean more = true;
            while (more && keepGoing.getAsBoolean()) {
                OptionalLong from = passes.from(collection, chunkings, System.nanoTime(), forcedSince);
                if (from.isEmpty()) {
                    break;
                }
                long start = System.nanoTime();
                Batch batch;
                try {
                    batch = cut(c, collection, from.getAsLong(), batchSize);
                    c.commit();
                } catch (SQLException | RuntimeException e) {
                    passes.failed(collection, System.nanoTime() - start);
                    throw e;
                }
                total += batch.cut();
                long now = System.nanoTime();
                more = passes.batch(collection, batch.cut(), batch.last(), batchSize, now - start, now) && now < until;
            }
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
        return total;
    }

    /**
     * Cuts at most {@code limit} documents' chunkings of collection {@code collectionId}, from
     * document id {@code from} on, in the caller's transaction (the caller commits); a batch with
     * fewer than {@code limit} ends the walk through the collection ({@link RechunkPasses}).
     */
    Batch cut(Connection c, int collectionId, long from, int limit) throws SQLException {
        // Nothing to cut (and nothing locked) while its generations share one chunking: a model
        // migration, or none.
        try (PreparedStatement s = c.prepareStatement(
                "select count(distinct chunking) > 1 from collection_generations where collection_id = ?")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    return Batch.NONE;
                }
            }
        }
        // As the ingest-worker does for every document it writes: a drop of the chunking (a rollback
        // or prune, collection_drop_generation) locks the row FOR UPDATE before deleting its chunks,
        // so it waits for this cut and a cut after it finds no such chunking.
        try (PreparedStatement s = c.prepareStatement("select 1 from collections where id = ? for key share")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Batch.NONE;
                }
            }
        }
        List<Owed> owed = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("select document_id, chunking from chunking_owed(?, ?, ?)")) {
            s.setInt(1, collectionId);
            s.setLong(2, from);
            s.setInt(3, limit);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    owed.add(new Owed(rs.getLong(1), rs.getInt(2)));
                }
            }
        }
        if (owed.isEmpty()) {
            return Batch.NONE;
        }
        Collection collection = serving(c, collectionId);
        DocumentChunker chunker = chunkers.apply(collection);
        Map<Integer, Collection> cutWith = new HashMap<>();
        for (Chunking k : Chunking.live(c, collectionId)) {
            cutWith.put(k.number(), collection.withChunking(k.sizeTokens(), k.overlapTokens()));
        }
        // Read after chunking_owed locked them (a statement of its own, so a new snapshot): an ingest
        // that committed just before the lock is seen, with its version, title and text.
        Map<Long, Text> documents = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement("select d.id, d.external_id, d.version, d.title, t.content"
                + " from documents d join document_texts t on t.document_id = d.id where d.id = any(?)")) {
            s.setArray(
                    1,
                    c.createArrayOf(
                            "bigint", owed.stream().map(Owed::id).distinct().toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    documents.put(
                            rs.getLong(1), new Text(rs.getString(2), rs.getLong(3), rs.getString(4), rs.getString(5)));
                }
            }
        }
        Set<Long> asked = new HashSet<>();
        for (Owed o : owed) {
            Text d = documents.get(o.id());
            if (d == null) {
                continue; // its text went with it (a delete committed before the lock)
            }
            ChunkWriter.write(
                    c,
                    o.id(),
                    collectionId,
                    d.version(),
                    o.chunking(),
                    chunker.chunk(cutWith.get(o.chunking()), d.title(), d.content()),
                    // Not as new: another worker's cut of the same document may have committed since
                    // chunking_owed's snapshot; the plan then keeps its chunks (the same text cut the
                    // same way) instead of meeting them on the unique key.
                    false);
            if (asked.add(o.id())) {
                Outbox.append(
                        c, REQUESTS, new EmbeddingRequest(collection.name(), d.externalId(), o.id(), d.version()));
            }
        }
        return new Batch(owed.size(), owed.get(owed.size() - 1).id());
    }

    private static Collection serving(Connection c, int collectionId) throws SQLException {
        String name;
        try (PreparedStatement s = c.prepareStatement("select name from collections where id = ?")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                name = rs.getString(1);
            }
        }
        return CollectionCatalog.stored(c, name);
    }
}
