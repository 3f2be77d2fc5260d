package io.ragline.ingest.document;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.ragline.contracts.Json;
import io.ragline.contracts.document.DocumentMessage;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.contracts.pipeline.DocumentEvent;
import io.ragline.contracts.pipeline.PipelineEventCodec;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.collections.Chunking;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.outbox.Outbox;
import io.ragline.embeddings.chunking.ChunkWriter;
import io.ragline.embeddings.chunking.DocumentChunker;
import io.ragline.embeddings.chunking.RecursiveChunker;
import io.ragline.embeddings.chunking.TextNormalizer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Applies {@code documents} records in the consumer's transaction: upsert the document, put its
 * new chunks in place of the old ones (keeping the rows, so the vectors, of texts that come again:
 * {@link ChunkWriter}) and write the outbox row that asks for its embeddings, all or nothing. Unchanged
 * content (same hash of normalised title and text) only updates metadata; a version not above
 * the stored one is ignored; a delete (or tombstone) removes chunks and vectors and keeps the row
 * as {@code deleted}, so a stale upsert arriving later is still recognised.
 */
public final class DocumentWriter implements BatchWriter<DocumentMessage> {
    private static final EmbeddingRequestCodec REQUESTS = new EmbeddingRequestCodec();
    private static final PipelineEventCodec EVENTS = new PipelineEventCodec();

    private final CollectionCatalog catalog;
    private final Function<Collection, DocumentChunker> chunkers;
    private final Counter applied;
    private final Counter unchanged;
    private final Counter stale;
    private final Counter deleted;

    public DocumentWriter(
            CollectionCatalog catalog, Function<Collection, DocumentChunker> chunkers, MeterRegistry registry) {
        this.catalog = catalog;
        this.chunkers = chunkers;
        this.applied = outcome(registry, DocumentStatus.CHUNKED.stored());
        this.unchanged = outcome(registry, "unchanged");
        this.stale = outcome(registry, "stale");
        this.deleted = outcome(registry, "deleted");
    }

    private static Counter outcome(MeterRegistry registry, String outcome) {
        return Counter.builder("ragline.documents.applied")
                .description("documents records applied, by outcome")
                .tag("outcome", outcome)
                .register(registry);
    }

    private record Stored(long id, long version, byte[] hash, DocumentStatus status) {}

    @Override
    public void write(List<InboundRecord<DocumentMessage>> records, Connection c) throws Exception {
        Map<String, Collection> locked = new HashMap<>();
        Map<Integer, List<Chunking>> chunkings = new HashMap<>(); // read once per collection and batch
        for (InboundRecord<DocumentMessage> r : records) {
            DocumentMessage m = r.value();
            Collection collection = locked.get(m.collection());
            if (collection == null) {
                collection = lockCollection(c, m.collection());
                if (collection == null) {
                    throw new PoisonRecordException("unknown collection '" + m.collection() + "'", r.raw(), null);
                }
                locked.put(m.collection(), collection);
            }
            Stored stored = load(c, collection.id(), m.id());
            if (stored != null && m.version() != null && m.version() <= stored.version) {
                stale.increment();
                continue;
            }
            long version = m.version() != null ? m.version() : stored == null ? 1 : stored.version + 1;
            if (m.op() == DocumentMessage.Op.DELETE) {
                delete(c, collection, m, stored, version);
            } else {
                List<Chunking> live = chunkings.get(collection.id());
                if (live == null) {
                    live = Chunking.live(c, collection.id());
                    chunkings.put(collection.id(), live);
                }
                upsert(c, collection, live, m, stored, version);
            }
        }
    }

    private void upsert(
            Connection c, Collection collection, List<Chunking> live, DocumentMessage m, Stored stored, long version)
            throws SQLException {
        String title = TextNormalizer.normalize(m.title());
        String content = TextNormalizer.normalize(m.content());
        byte[] hash = ChunkWriter.sha256((title == null ? "" : title) + '\u0000' + content);
        String metadata = Json.write(m.metadata());
        if (stored != null
                && Arrays.equals(hash, stored.hash)
                && (stored.status == DocumentStatus.CHUNKED || stored.status == DocumentStatus.EMBEDDED)) {
            try (PreparedStatement s = c.prepareStatement("update documents set version = ?, metadata = ?::jsonb,"
                    + " source = ?, updated_at = now() where id = ?")) {
                s.setLong(1, version);
                s.setString(2, metadata);
                s.setString(3, m.source());
                s.setLong(4, stored.id);
                s.executeUpdate();
            }
            keepText(c, stored.id, content, false); // a document stored before texts were kept gets its text
            if (stored.status == DocumentStatus.CHUNKED) {
                // The request already written names the older version, which this one makes
                // obsolete: ask again under the new version, or the chunks would never be embedded.
                Outbox.append(c, REQUESTS, new EmbeddingRequest(collection.name(), m.id(), stored.id, version));
            }
            unchanged.increment();
            return;
        }
        DocumentStatus status =
                (stored == null ? DocumentStatus.RECEIVED : stored.status).moveTo(DocumentStatus.CHUNKED);
        // One cut per live chunking (V34: the serving generation's first, then a migration's or a kept
        // generation's own), so that every generation can serve the document as soon as its vectors are in.
        DocumentChunker chunker = chunkers.apply(collection);
        List<List<RecursiveChunker.Chunk>> cuts = new ArrayList<>(live.size());
        for (Chunking k : live) {
            cuts.add(chunker.chunk(collection.withChunking(k.sizeTokens(), k.overlapTokens()), title, content));
        }
        List<RecursiveChunker.Chunk> chunks = cuts.get(0);
        long documentId;
        try (PreparedStatement s = c.prepareStatement(
                stored == null
                        ? "insert into documents (title, source, content_hash, metadata, version, status, chunk_count,"
                                + " chunked_at, collection_id, external_id) values (?, ?, ?, ?::jsonb, ?, ?, ?, now(),"
                                + " ?, ?) returning id"
                        : "update documents set title = ?, source = ?, content_hash = ?, metadata = ?::jsonb, version = ?,"
                                + " status = ?, chunk_count = ?, chunked_at = now(), error = null, embedded_at ="
                                + " null, deleted_at = null, updated_at = now() where collection_id = ? and external_id = ?"
                                + " returning id")) {
            s.setString(1, title);
            s.setString(2, m.source());
            s.setBytes(3, hash);
            s.setString(4, metadata);
            s.setLong(5, version);
            s.setString(6, status.stored());
            s.setInt(7, chunks.size());
            s.setInt(8, collection.id());
            s.setString(9, m.id());
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) { // another consumer inserted it a moment ago (a rebalance): retry the batch
                    throw new SQLException("document " + m.key() + " was inserted concurrently", "40001");
                }
                documentId = rs.getLong(1);
            }
        }
        if (stored != null) {
            // Chunks of a chunking no generation has any more (an ingest in flight when it was pruned)
            // go, as do those of one this transaction did not see (a migration made after its read):
            // the embedding-worker cuts that one again from the text kept below.
            try (PreparedStatement s =
                    c.prepareStatement("delete from chunks where document_id = ? and chunking <> all(?)")) {
                s.setLong(1, documentId);
                s.setArray(
                        2,
                        c.createArrayOf(
                                "integer", live.stream().map(Chunking::number).toArray()));
                s.executeUpdate();
            }
        }
        for (int i = 0; i < live.size(); i++) {
            ChunkWriter.write(
                    c, documentId, collection.id(), version, live.get(i).number(), cuts.get(i), stored == null);
        }
        keepText(c, documentId, content, true);
        Outbox.append(c, REQUESTS, new EmbeddingRequest(collection.name(), m.id(), documentId, version));
        applied.increment();
    }

    private void delete(Connection c, Collection collection, DocumentMessage m, Stored stored, long version)
            throws SQLException {
        DocumentStatus status =
                (stored == null ? DocumentStatus.RECEIVED : stored.status).moveTo(DocumentStatus.DELETED);
        if (stored == null) {
            try (PreparedStatement s = c.prepareStatement("insert into documents (collection_id, external_id,"
                    + " version, status, deleted_at) values (?, ?, ?, ?, now())")) {
                s.setInt(1, collection.id());
                s.setString(2, m.id());
                s.setLong(3, version);
                s.setString(4, status.stored());
                s.executeUpdate();
            }
        } else {
            deleteChunks(c, stored.id);
            try (PreparedStatement s = c.prepareStatement("update documents set status = ?, version = ?,"
                    + " content_hash = null, chunk_count = 0, deleted_at = now(), updated_at = now() where id = ?")) {
                s.setString(1, status.stored());
                s.setLong(2, version);
                s.setLong(3, stored.id);
                s.executeUpdate();
            }
        }
        Outbox.append(c, EVENTS, DocumentEvent.deleted(collection.name(), m.id(), version));
        deleted.increment();
    }

    /**
     * The collection named {@code name} as it is in this transaction, or null if there is none.
     * Its row is locked ({@code for key share}) until the transaction ends, so it cannot be
     * deleted under the documents written for it; the catalog's copy is used when its id is the
     * row's, and read again when the collection was dropped and created anew under its name
     * within the cache's life (the old id would break the foreign key and dead-letter the record).
     */
    private Collection lockCollection(Connection c, String name) throws SQLException {
        int id;
        try (PreparedStatement s = c.prepareStatement("select id from collections where name = ? for key share")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                id = rs.getInt(1);
            }
        }
        Collection cached = catalog.find(c, name);
        return cached != null && cached.id() == id ? cached : catalog.reload(c, name);
    }

    private static Stored load(Connection c, int collectionId, String externalId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select id, version, content_hash, status from documents"
                + " where collection_id = ? and external_id = ? for update")) {
            s.setInt(1, collectionId);
            s.setString(2, externalId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next()
                        ? new Stored(
                                rs.getLong(1),
                                rs.getLong(2),
                                rs.getBytes(3),
                                DocumentStatus.fromStored(rs.getString(4)))
                        : null;
            }
        }
    }

    private static void deleteChunks(Connection c, long documentId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("delete from chunks where document_id = ?")) {
            s.setLong(1, documentId);
            s.executeUpdate();
        }
        try (PreparedStatement s = c.prepareStatement("delete from document_texts where document_id = ?")) {
            s.setLong(1, documentId);
            s.executeUpdate();
        }
    }

    /**
     * Keeps the normalised text document {@code documentId} was cut from ({@code document_texts}):
     * a migration to another chunk size cuts it again from there. {@code replace}: the text changed;
     * else only a missing one is written (unchanged content published again).
     */
    private static void keepText(Connection c, long documentId, String content, boolean replace) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("insert into document_texts (document_id, content) values (?, ?)"
                + " on conflict (document_id) do "
                + (replace ? "update set content = excluded.content" : "nothing"))) {
            s.setLong(1, documentId);
            s.setString(2, content);
            s.executeUpdate();
        }
    }
}
