package io.ragline.embedding.migration;

import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
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
import java.util.List;
import java.util.function.Function;

/**
 * Cuts the documents a migration's new chunking lacks (docs/architecture.md section 11,
 * "Chunkings"): those stored before the migration began, and any an ingest transaction in flight at
 * its start missed. Each is cut from its kept text ({@code document_texts}) and title with the
 * ingest-worker's own chunker (the collection's serving model's tokenizer, the template, the new
 * size and overlap), its chunks inserted under its row lock ({@code chunking_owed} locks it, {@code
 * SKIP LOCKED}: a document an ingest is writing is left to that ingest, which cuts every live
 * chunking), and its vectors asked for through the outbox in the same transaction.
 */
final class Rechunker {
    private static final EmbeddingRequestCodec REQUESTS = new EmbeddingRequestCodec();

    private final Function<Collection, DocumentChunker> chunkers;

    Rechunker() {
        this(new ModelTokenCounter.Chunkers());
    }

    Rechunker(Function<Collection, DocumentChunker> chunkers) {
        this.chunkers = chunkers;
    }

    private record Owed(long id, String externalId, long version, String title, String content, int chunking) {}

    /**
     * Cuts at most {@code limit} documents of collection {@code collectionId} in the caller's
     * transaction (the caller commits); returns how many.
     */
    int cut(Connection c, int collectionId, int limit) throws SQLException {
        // As the ingest-worker does for every document it writes: a drop of the chunking (a rollback
        // or prune, collection_drop_generation) locks the row FOR UPDATE before deleting its chunks,
        // so it waits for this cut and a cut after it finds no building generation.
        try (PreparedStatement s = c.prepareStatement("select 1 from collections where id = ? for key share")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return 0;
                }
            }
        }
        List<Owed> owed = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("select d.id, d.external_id, d.version, d.title, t.content,"
                + " o.chunking from chunking_owed(?, ?) o join documents d on d.id = o.document_id"
                + " join document_texts t on t.document_id = d.id order by d.id")) {
            s.setInt(1, collectionId);
            s.setInt(2, limit);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    owed.add(new Owed(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getLong(3),
                            rs.getString(4),
                            rs.getString(5),
                            rs.getInt(6)));
                }
            }
        }
        if (owed.isEmpty()) {
            return 0;
        }
        Collection collection = serving(c, collectionId);
        int size;
        int overlap;
        try (PreparedStatement s = c.prepareStatement("select chunk_size_tokens, chunk_overlap_tokens from"
                + " collection_chunkings where collection_id = ? and chunking = ?")) {
            s.setInt(1, collectionId);
            s.setInt(2, owed.get(0).chunking());
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                size = rs.getInt(1);
                overlap = rs.getInt(2);
            }
        }
        Collection cutWith = collection.withChunking(size, overlap);
        DocumentChunker chunker = chunkers.apply(collection);
        for (Owed d : owed) {
            ChunkWriter.write(
                    c,
                    d.id(),
                    collectionId,
                    d.version(),
                    d.chunking(),
                    chunker.chunk(cutWith, d.title(), d.content()),
                    true);
            Outbox.append(c, REQUESTS, new EmbeddingRequest(collection.name(), d.externalId(), d.id(), d.version()));
        }
        return owed.size();
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
