package io.ragline.embedding.search;

import com.pgvector.PGvector;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.embeddings.EmbeddingProvider;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * Semantic search: embeds the query with the collection's model (with the model's query prefix)
 * and asks {@code search_documents} for the nearest chunks. Shared by {@code POST /search} and
 * {@code ragline search}. The query is embedded with no connection held; the vector goes to SQL as
 * a {@link PGvector} parameter.
 */
public final class Searcher {
    /** {@code no_data_found}, which {@code search_documents} raises for a collection it does not know. */
    private static final String UNKNOWN_COLLECTION = "P0002";

    private final DataSource dataSource;
    private final CollectionCatalog catalog;
    private final Function<Collection, EmbeddingProvider> providers;

    public Searcher(
            DataSource dataSource, CollectionCatalog catalog, Function<Collection, EmbeddingProvider> providers) {
        this.dataSource = dataSource;
        this.catalog = catalog;
        this.providers = providers;
    }

    /** One chunk found, with its document's external id and title; {@code score} is cosine similarity. */
    public record Hit(String documentId, String title, double score, String content, long chunkId, String metadata) {}

    /**
     * The {@code k} best chunks of {@code collectionName} for {@code query}, filtered by {@code
     * filterJson} (matched against document metadata with {@code @>}; null for none); null if the
     * collection does not exist, also when it was dropped while the query was embedded.
     *
     * @throws SQLException as the database failed; SQLSTATE class 22 when it refuses a value of
     *     the request (a NUL in the filter, say)
     * @throws io.ragline.embeddings.EmbeddingException when the query cannot be embedded
     */
    public List<Hit> search(String collectionName, String query, int k, String filterJson) throws SQLException {
        Collection collection;
        try (Connection c = dataSource.getConnection()) {
            collection = catalog.find(c, collectionName);
        }
        if (collection == null) {
            return null;
        }
        // No connection is held while the model runs (an HTTP provider may take seconds).
        float[] vector = providers.apply(collection).embedQuery(query);
        try (Connection c = dataSource.getConnection()) {
            List<Hit> hits = new ArrayList<>(k);
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false); // search_documents sets its hnsw options for the transaction
            try (PreparedStatement s = c.prepareStatement("select chunk_id, document_id, title, content,"
                    + " metadata::text, similarity from search_documents(?::public.vector, ?, ?, ?::jsonb)")) {
                s.setObject(1, new PGvector(vector)); // pgvector's text form, no float formatting of ours
                s.setInt(2, k);
                s.setString(3, collectionName);
                s.setString(4, filterJson == null ? "{}" : filterJson);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        hits.add(new Hit(
                                rs.getString(2),
                                rs.getString(3),
                                rs.getDouble(6),
                                rs.getString(4),
                                rs.getLong(1),
                                rs.getString(5)));
                    }
                }
                c.commit();
            } catch (SQLException e) {
                rollback(c, e);
                if (UNKNOWN_COLLECTION.equals(e.getSQLState())) {
                    return null; // search_documents no longer finds it: dropped since the catalog saw it
                }
                throw e;
            } finally {
                restoreAutoCommit(c, auto);
            }
            return hits;
        }
    }

    private static void restoreAutoCommit(Connection c, boolean auto) {
        try {
            c.setAutoCommit(auto);
        } catch (SQLException brokenConnection) {
            // closing it, next, is all that is left to do; the search's own outcome stands
        }
    }

    /** Rolls back after {@code failure}; a connection that cannot even do that adds to the failure. */
    private static void rollback(Connection c, SQLException failure) {
        try {
            c.rollback();
        } catch (SQLException e) {
            failure.addSuppressed(e);
        }
    }
}
