package io.ragline.core.collections;

import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.outbox.Outbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Computes a collection's or a document's vectors again, for instance after its chunk template
 * changed (the chunks stay; changing them takes publishing the documents again). In the caller's
 * transaction: the {@code embedded} and {@code failed} documents are locked ({@code FOR UPDATE},
 * in id order), their vectors deleted and their status set back to {@code chunked}; then an
 * {@code embedding-requests} row goes to the outbox for every {@code chunked} document (those
 * already waiting included). A re-embedded document is out of search results until the
 * embedding-worker has written its new vectors. The version stays (it is the producer's). A
 * {@code chunked} document keeps the vectors it has (those of chunks an update kept): a request of
 * its is on the way or in flight, and deleting vectors under a job already prepared would leave the
 * chunks it counted as kept without one. An {@code embedded} or {@code failed} document has no job
 * in flight (its requests are duplicates, dropped before a model runs), except while a rebalance
 * lets two consumers hold its partition at once.
 */
public final class Reembedding {
    private static final EmbeddingRequestCodec REQUESTS = new EmbeddingRequestCodec();

    private Reembedding() {}

    /**
     * Every document of collection {@code name}.
     *
     * @return the embedding requests written (its documents now waiting for their vectors)
     * @throws CollectionException NOT_FOUND
     */
    public static int collection(Connection c, String name) throws SQLException, CollectionException {
        Collection collection = CollectionRegistry.locked(c, name);
        List<Long> documents = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
                "select id from documents where collection_id = ? and status" + " in (?, ?) order by id for update")) {
            s.setInt(1, collection.id());
            s.setString(2, DocumentStatus.EMBEDDED.stored());
            s.setString(3, DocumentStatus.FAILED.stored());
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    documents.add(rs.getLong(1));
                }
            }
        }
        backToChunked(c, documents);
        return Outbox.requestEmbeddings(c, name);
    }

    /**
     * Document {@code id} ({@code documents.id}).
     *
     * @throws CollectionException NOT_FOUND, or CONFLICT for a deleted document (nothing to embed)
     */
    public static void document(Connection c, long id) throws SQLException, CollectionException {
        DocumentStatus status;
        EmbeddingRequest request;
        try (PreparedStatement s = c.prepareStatement("select d.status, k.name, d.external_id, d.version from"
                + " documents d join collections k on k.id = d.collection_id where d.id = ? for update of d")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw CollectionException.notFound("no document with id " + id);
                }
                status = DocumentStatus.fromStored(rs.getString(1));
                request = new EmbeddingRequest(rs.getString(2), rs.getString(3), id, rs.getLong(4));
            }
        }
        if (status == DocumentStatus.DELETED || status == DocumentStatus.RECEIVED) {
            throw CollectionException.conflict("document " + id + " is " + status + ": it has nothing to embed");
        }
        if (status != DocumentStatus.CHUNKED) {
            backToChunked(c, List.of(id));
        }
        Outbox.append(c, REQUESTS, request);
    }

    /** Deletes the vectors of {@code documents} (locked by the caller) and sets them {@code chunked}. */
    private static void backToChunked(Connection c, List<Long> documents) throws SQLException {
        if (documents.isEmpty()) {
            return;
        }
        Object[] ids = documents.toArray();
        try (PreparedStatement s = c.prepareStatement("delete from chunk_embeddings e using chunks ch where ch.id ="
                + " e.chunk_id and ch.document_id = any(?)")) {
            s.setArray(1, c.createArrayOf("bigint", ids));
            s.executeUpdate();
        }
        try (PreparedStatement s = c.prepareStatement("update documents set status = ?, error = null, embedded_at ="
                + " null, updated_at = now() where id = any(?)")) {
            s.setString(1, DocumentStatus.CHUNKED.stored());
            s.setArray(2, c.createArrayOf("bigint", ids));
            s.executeUpdate();
        }
    }
}
