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
    private static final String SELECT = "select id, name, embedding_provider, embedding_model, dimensions,"
            + " chunk_size_tokens, chunk_overlap_tokens, chunk_template, status from collections";

    private final Duration ttl;
    private final Map<String, Entry> byName = new ConcurrentHashMap<>();

    public CollectionCatalog(Duration ttl) {
        this.ttl = ttl;
    }

    private record Entry(Collection collection, long loadedAt) {}

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
        try (PreparedStatement s = c.prepareStatement(SELECT + " where name = ?")) {
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
        try (PreparedStatement s = c.prepareStatement(SELECT + " order by name");
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
        try (PreparedStatement s = c.prepareStatement(SELECT + " where name = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? read(rs) : null;
            }
        }
    }

    /** The collection in the first nine columns of {@code rs}, in the order of {@code SELECT}. */
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
                rs.getString(9));
    }
}
