package io.ragline.core.collections;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The collections as the workers see them, read from Postgres and kept for a short while: a
 * collection created a moment ago is found on the first miss, a changed one within {@code ttl}.
 */
public final class CollectionCatalog {
    /** The columns {@link #read} reads, in its order, of the collections row aliased {@code c}. */
    static final String COLUMNS = "c.id, c.name, c.embedding_provider, c.embedding_model, c.dimensions,"
            + " c.chunk_size_tokens, c.chunk_overlap_tokens, c.chunk_template, c.status, c.distance, c.index_type,"
            + " (c.index_options ->> 'm')::integer, (c.index_options ->> 'ef_construction')::integer,"
            + " (c.index_options ->> 'ef_search')::integer, (c.index_options ->> 'lists')::integer,"
            + " (c.index_options ->> 'probes')::integer, c.vector_storage = 'halfvec', c.text_search_config,"
            + " serving_generation(c.id)";
    /** How many columns {@link #COLUMNS} has. */
    static final int COLUMN_COUNT = 19;

    private static final String SELECT = "select " + COLUMNS + " from collections c";

    private final Duration ttl;
    private final Map<String, Entry> byName = new ConcurrentHashMap<>();

    public CollectionCatalog(Duration ttl) {
        this.ttl = ttl;
    }

    private record Entry(Collection collection, long loadedAt) {}

    /**
     * The names of the collections whose serving generation has vectors but no vector index, so
     * that their searches scan every vector exactly: an IVFFlat one before its first reindex, an
     * HNSW one created to be indexed after the load ({@link IndexBuild#AFTER_LOAD}). The schema
     * owner's {@code ragline collections reindex NAME} builds it.
     */
    public static java.util.Set<String> unindexed(Connection c) throws SQLException {
        java.util.Set<String> names = new java.util.TreeSet<>();
        try (PreparedStatement s = c.prepareStatement("select c.name from collections c where not"
                        + " collection_index_built(c.id) and exists (select 1 from chunk_embeddings e where"
                        + " e.collection_id = c.id and e.generation = serving_generation(c.id))");
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    /** The collection named {@code name}, or null if there is none; read on {@code c} when needed. */
    public Collection find(Connection c, String name) throws SQLException {
        Entry e = byName.get(name);
        if (e != null && System.nanoTime() - e.loadedAt < ttl.toNanos()) {
            return e.collection;
        }
        return reload(c, name);
    }

    /** The collection named {@code name} as stored now (for a caller that saw the cache is stale), or null. */
    public Collection reload(Connection c, String name) throws SQLException {
        long now = System.nanoTime();
        try (PreparedStatement s = c.prepareStatement(SELECT + " where c.name = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    byName.remove(name);
                    return null;
                }
                Collection found = read(rs);
                byName.put(name, new Entry(found, now));
                return found;
            }
        }
    }

    /** Every collection, by name. */
    public static java.util.List<Collection> all(Connection c) throws SQLException {
        java.util.List<Collection> out = new java.util.ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(SELECT + " order by c.name");
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.add(read(rs));
            }
        }
        return out;
    }

    /**
     * The collection named {@code name} as stored now, read on {@code c} (in its transaction, with
     * no cache), or null if there is none.
     */
    public static Collection stored(Connection c, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(SELECT + " where c.name = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? read(rs) : null;
            }
        }
    }

    /** The collection in the first {@link #COLUMN_COUNT} columns of {@code rs}, those of {@link #COLUMNS}. */
    static Collection read(ResultSet rs) throws SQLException {
        return new Collection(
                rs.getInt(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getInt(5),
                rs.getInt(6),
                rs.getInt(7),
                rs.getString(8),
                rs.getString(9),
                new SearchIndex(
                        rs.getString(10),
                        rs.getString(11),
                        rs.getObject(12, Integer.class),
                        rs.getObject(13, Integer.class),
                        rs.getObject(14, Integer.class),
                        rs.getObject(15, Integer.class),
                        rs.getObject(16, Integer.class),
                        rs.getBoolean(17),
                        rs.getString(18)),
                rs.getInt(19));
    }
}
