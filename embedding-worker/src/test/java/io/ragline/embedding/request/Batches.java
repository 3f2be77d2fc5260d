package io.ragline.embedding.request;

import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Documents waiting for their embeddings, as the ingest-worker leaves them, and batches of requests
 * written by an {@link EmbeddingWriter} in one transaction, as the consumer writes them.
 */
final class Batches {
    private final PostgresSchema db;
    private long offset;

    Batches(PostgresSchema db) {
        this.db = db;
    }

    /**
     * A {@code chunked} document {@code id} of {@code collection}, version 1, with {@code chunks}
     * chunks whose text is about {@code about}; its id.
     */
    long chunkedDocument(String collection, String id, int chunks, String about) throws Exception {
        db.execute("insert into documents (collection_id, external_id, title, version, status, chunk_count)"
                + " select id, '" + id + "', 'T', 1, 'chunked', " + chunks + " from collections where name = '"
                + collection + "'");
        long document = (long) db.queryValue("select d.id from documents d join collections c on c.id ="
                + " d.collection_id where c.name = '" + collection + "' and d.external_id = '" + id + "'");
        db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                + " select d.id, d.collection_id, 1, n, 'Chunk ' || n || ' of a text about " + about + ".', 12"
                + " from documents d, generate_series(0, " + (chunks - 1) + ") n where d.id = " + document);
        return document;
    }

    /** Writes {@code requests} as one batch of consecutive offsets; rolls back if the writer throws. */
    void write(EmbeddingWriter writer, List<EmbeddingRequest> requests) throws Exception {
        List<InboundRecord<EmbeddingRequest>> records = new ArrayList<>();
        for (EmbeddingRequest r : requests) {
            records.add(new InboundRecord<>(
                    new ConsumerRecord<>("embedding-requests", 0, offset++, new byte[0], new byte[0]), r));
        }
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try {
                writer.write(records, c);
                c.commit();
            } catch (Exception e) {
                c.rollback();
                throw e;
            }
        }
    }
}
