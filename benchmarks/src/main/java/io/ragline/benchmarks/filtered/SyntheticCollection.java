package io.ragline.benchmarks.filtered;

import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.collections.CollectionSettings;
import io.ragline.embedding.request.VectorWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A collection of synthetic documents, each of a few chunks with {@link ClusteredVectors}, written
 * straight into the tables the pipeline writes (documents and chunks by SQL, the vectors by the
 * embedding-worker's {@link VectorWriter}): what the pipeline would store, without a model.
 *
 * <p>Document {@code n} is {@code d<n>}, its metadata {@code {"tenant": "t<n % 100>", "year": 2000 +
 * n % 25}}: one tenant is 1 % of the documents, and so of the chunks, independent of where their
 * vectors lie. The collection is created by {@link CollectionRegistry#create} (what {@code ragline
 * collections create} runs), so its index is the one a user gets.
 */
public final class SyntheticCollection {
    /** How many tenants the documents are spread over: one tenant's filter matches 1 / TENANTS. */
    public static final int TENANTS = 100;

    /** Vectors per {@code COPY}: the embedding-worker's batches are of this order. */
    private static final int BATCH = 1_000;

    /** When the collection's vector index is built. */
    public enum Build {
        /**
         * By {@code collections create} on the empty table, every vector then an index insertion
         * (HNSW); an IVFFlat index, which the database builds only over vectors, after the load.
         */
        AT_CREATE,
        /**
         * Dropped after create and built again by {@code ensure_collection_index} once the vectors
         * are in (the same definition; a bulk build, as after a migration or a large import).
         */
        AFTER_LOAD,
        /** No vector index at all: for what reads the tables and never the index (the generation sweep). */
        NONE
    }

    /** What the load took: the collection, its index's name and size, the seconds of each step. */
    public record Loaded(
            Collection collection, String index, long indexBytes, double loadSeconds, double buildSeconds) {}

    private SyntheticCollection() {}

    /** {@code {"tenant": "t<tenant>"}}: the 1 % filter of the benchmark. */
    public static String tenantFilter(int tenant) {
        return "{\"tenant\": \"t" + Math.floorMod(tenant, TENANTS) + "\"}";
    }

    /** The key a search result and the exact search agree on: the document's id and the chunk's seq. */
    public static String key(String documentId, int seq) {
        return documentId + "/" + seq;
    }

    /**
     * Creates collection {@code name} with {@code settings} on {@code c} (autocommit off; commits
     * each step), {@code documents} documents of {@code chunksPerDocument} chunks each, and their
     * vectors.
     */
    public static Loaded load(
            Connection c,
            CollectionRegistry registry,
            String name,
            CollectionSettings settings,
            ClusteredVectors vectors,
            int documents,
            int chunksPerDocument,
            Build build)
            throws Exception {
        Collection collection = registry.create(c, name, settings);
        c.commit();
        String index = ensureIndex(c, collection.id()); // null: an IVFFlat index waits for vectors
        if (build != Build.AT_CREATE && index != null) {
            try (Statement s = c.createStatement()) {
                s.execute("drop index " + index);
            }
            c.commit();
        }
        long start = System.nanoTime();
        insertRows(c, collection.id(), documents, chunksPerDocument);
        writeVectors(c, collection.id(), vectors);
        double loadSeconds = (System.nanoTime() - start) / 1e9;
        start = System.nanoTime();
        if (build == Build.NONE) {
            analyze(c);
            return new Loaded(collection, null, 0, loadSeconds, 0);
        }
        try (Statement s = c.createStatement()) {
            // A bulk HNSW build keeps its graph in maintenance_work_mem (64 MB by default): 200,000
            // vectors of 384 floats need some 400 MB, or the build goes on disk and takes many times longer.
            s.execute("set local maintenance_work_mem = '1GB'");
        }
        // What `ragline collections reindex` runs for a collection without its index: an IVFFlat
        // collection gets its lists from the vectors now present; an HNSW one built at create has it.
        index = ensureIndex(c, collection.id());
        double buildSeconds = (System.nanoTime() - start) / 1e9;
        analyze(c);
        return new Loaded(collection, index, indexBytes(c, index), loadSeconds, buildSeconds);
    }

    private static void analyze(Connection c) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute("analyze documents");
            s.execute("analyze chunks");
            s.execute("analyze chunk_embeddings");
        }
        c.commit();
    }

    private static String ensureIndex(Connection c, int collectionId) throws Exception {
        try (PreparedStatement s = c.prepareStatement("select ensure_collection_index(?)")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                String index = rs.getString(1);
                c.commit();
                return index;
            }
        }
    }

    private static void insertRows(Connection c, int collectionId, int documents, int chunksPerDocument)
            throws Exception {
        try (PreparedStatement s = c.prepareStatement("insert into documents (collection_id, external_id, title,"
                + " metadata, status, chunk_count, chunked_at, embedded_at) select ?, 'd' || n, 'Document ' || n,"
                + " jsonb_build_object('tenant', 't' || (n % " + TENANTS + "), 'year', 2000 + n % 25), 'embedded',"
                + " ?, now(), now() from generate_series(0, ? - 1) n")) {
            s.setInt(1, collectionId);
            s.setInt(2, chunksPerDocument);
            s.setInt(3, documents);
            s.executeUpdate();
        }
        try (PreparedStatement s = c.prepareStatement("insert into chunks (document_id, collection_id,"
                + " document_version, seq, content, token_count) select d.id, d.collection_id, 0, q, 'chunk ' || q"
                + " || ' of ' || d.title, 5 from documents d, generate_series(0, ? - 1) q where d.collection_id = ?"
                + " order by d.id, q")) {
            s.setInt(1, chunksPerDocument);
            s.setInt(2, collectionId);
            s.executeUpdate();
        }
        c.commit();
    }

    /** One vector per chunk, the chunk's own ({@link ClusteredVectors#chunk}), in batches of {@link #BATCH}. */
    private static void writeVectors(Connection c, int collectionId, ClusteredVectors vectors) throws Exception {
        List<long[]> chunks = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("select ch.id, substr(d.external_id, 2)::bigint, ch.seq from"
                + " chunks ch join documents d on d.id = ch.document_id where ch.collection_id = ? order by ch.id")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    chunks.add(new long[] {rs.getLong(1), rs.getLong(2), rs.getInt(3)});
                }
            }
        }
        for (int at = 0; at < chunks.size(); at += BATCH) {
            List<Long> ids = new ArrayList<>(BATCH);
            List<float[]> batch = new ArrayList<>(BATCH);
            for (long[] chunk : chunks.subList(at, Math.min(chunks.size(), at + BATCH))) {
                ids.add(chunk[0]);
                batch.add(vectors.chunk(chunk[1], (int) chunk[2]));
            }
            VectorWriter.write(c, collectionId, ids, batch, "synthetic");
            c.commit();
        }
    }

    private static long indexBytes(Connection c, String index) throws Exception {
        try (PreparedStatement s = c.prepareStatement("select pg_relation_size(to_regclass(?))")) {
            s.setString(1, index);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                long bytes = rs.getLong(1);
                c.commit();
                return bytes;
            }
        }
    }
}
