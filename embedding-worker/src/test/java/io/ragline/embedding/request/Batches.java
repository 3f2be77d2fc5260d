package io.ragline.embedding.request;

import com.zaxxer.hikari.HikariDataSource;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.core.consumer.PostgresBatchSink;
import io.ragline.core.db.Database;
import io.ragline.testkit.PostgresSchema;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Documents waiting for their embeddings, as the ingest-worker leaves them, and batches of requests
 * written by an {@link EmbeddingWriter} through the consumer's {@link PostgresBatchSink} (prepare
 * with no connection held, then one transaction with the offsets), as the consumer writes them.
 */
final class Batches implements AutoCloseable {
    private final PostgresSchema db;
    private HikariDataSource pool;
    private long offset;

    Batches(PostgresSchema db) {
        this.db = db;
    }

    /** The pool the writer and the sink share (made on first use, after the schema exists). */
    synchronized HikariDataSource pool() {
        if (pool == null) {
            pool = Database.pool(
                    DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), 4, "batches-it", null);
        }
        return pool;
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

    /**
     * Writes version {@code version} of {@code document} as the ingest-worker writes changed
     * content: in one transaction, locks the document, gives it the new version (status {@code
     * chunked}) and replaces its chunks (their vectors go with them, by the {@code chunks_deleted}
     * trigger).
     */
    void newVersion(long document, long version, int chunks, String about) throws Exception {
        try (var c = db.connect();
                var s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("set local lock_timeout = '5s'"); // the embedding-worker must not hold the lock
            s.execute("select id from documents where id = " + document + " for update");
            s.execute("update documents set version = " + version + ", status = 'chunked', chunk_count = " + chunks
                    + ", embedded_at = null, updated_at = now() where id = " + document);
            s.execute("delete from chunks where document_id = " + document);
            s.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select d.id, d.collection_id, " + version + ", n, 'Chunk ' || n || ' of version " + version
                    + " about " + about + ".', 12 from documents d, generate_series(0, " + (chunks - 1)
                    + ") n where d.id = " + document);
            c.commit();
        }
    }

    /**
     * A new {@code version} as the ingest-worker's chunk diff writes it: under the document's lock,
     * the chunks {@code kept} stay (their ids, so their vectors), every other chunk is deleted (the
     * trigger drops its vector) and {@code added} new chunks are inserted after the highest seq.
     */
    void newVersionKeeping(long document, long version, List<Long> kept, int added, String about) throws Exception {
        try (var c = db.connect();
                var s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("set local lock_timeout = '5s'"); // the embedding-worker must not hold the lock
            s.execute("select id from documents where id = " + document + " for update");
            s.execute("delete from chunks where document_id = " + document + " and id <> all(array" + kept
                    + "::bigint[])");
            s.execute("update documents set version = " + version + ", status = 'chunked', chunk_count = "
                    + (kept.size() + added) + ", embedded_at = null, updated_at = now() where id = " + document);
            s.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select d.id, d.collection_id, " + version + ", 1000 + n, 'Chunk ' || n || ' of version "
                    + version + " about " + about + ".', 12 from documents d, generate_series(1, " + added
                    + ") n where d.id = " + document);
            c.commit();
        }
    }

    /** Writes {@code requests} as one batch of the next offsets; rolls back if the writer throws. */
    void write(BatchWriter<EmbeddingRequest> writer, List<EmbeddingRequest> requests) throws Exception {
        writeFrom(offset, writer, requests);
    }

    /** The offset the next {@link #write} gives its first request. */
    long nextOffset() {
        return offset;
    }

    /**
     * Writes {@code requests} as one batch of consecutive offsets from {@code first}: from an
     * offset already written, a batch delivered again (the sink leaves out the records whose offsets
     * are stored). Rolls back if the writer throws.
     */
    void writeFrom(long first, BatchWriter<EmbeddingRequest> writer, List<EmbeddingRequest> requests) throws Exception {
        List<InboundRecord<EmbeddingRequest>> records = new ArrayList<>();
        List<ConsumerRecord<byte[], byte[]>> consumed = new ArrayList<>();
        long at = first;
        for (EmbeddingRequest r : requests) {
            ConsumerRecord<byte[], byte[]> record =
                    new ConsumerRecord<>("embedding-requests", 0, at++, new byte[0], new byte[0]);
            consumed.add(record);
            records.add(new InboundRecord<>(record, r));
        }
        offset = Math.max(offset, at);
        new PostgresBatchSink<>(pool(), "batches-it", writer, CircuitBreaker.ofDefaults("batches-it"))
                .write(records, consumed);
    }

    /**
     * {@code writer}, with {@code meanwhile} run after it read and embedded the batch and before it
     * writes it: what another process commits between the two.
     */
    static BatchWriter<EmbeddingRequest> between(EmbeddingWriter writer, Meanwhile meanwhile) {
        return new BatchWriter<>() {
            @Override
            public void write(List<InboundRecord<EmbeddingRequest>> records, java.sql.Connection c) throws Exception {
                prepare(records).write(records, c);
            }

            @Override
            public BatchWriter<EmbeddingRequest> prepare(List<InboundRecord<EmbeddingRequest>> records)
                    throws Exception {
                BatchWriter<EmbeddingRequest> prepared = writer.prepare(records);
                meanwhile.run();
                return prepared;
            }
        };
    }

    /** What happens between a batch's read and its write. */
    @FunctionalInterface
    interface Meanwhile {
        void run() throws Exception;
    }

    @Override
    public synchronized void close() {
        if (pool != null) {
            pool.close();
        }
    }
}
