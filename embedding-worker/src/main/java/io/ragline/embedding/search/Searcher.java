package io.ragline.embedding.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.pgvector.PGvector;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.embeddings.EmbeddingProvider;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * Search: embeds the query with the model of the collection's serving generation (with the model's
 * query prefix) when the mode needs its vector, and asks {@code search_documents} for the best
 * chunks or documents of that same generation, named explicitly: a migration's switch between
 * reading the collection and the query leaves the generation named 'kept', still answering, so one
 * model's query is never ranked among another's vectors.
 * Shared by {@code POST /search}, the console's {@code POST /api/v1/search} and {@code ragline
 * search}. The query is embedded with no connection held; the vector goes to SQL as a {@link
 * PGvector} parameter, the filter as a jsonb parameter that the database checks and evaluates.
 */
public final class Searcher {
    /** The longest one search may run in the database. */
    public static final java.time.Duration STATEMENT_TIMEOUT = java.time.Duration.ofSeconds(30);

    /** {@code no_data_found}, which {@code search_documents} raises for a collection it does not know. */
    private static final String UNKNOWN_COLLECTION = "P0002";

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String SQL = "select chunk_id, document_id, title, content, metadata::text, similarity,"
            + " seq, matching_chunks, context::text, vector_score, text_score"
            + " from search_documents(?::public.vector, ?, ?, ?::jsonb, mode => ?, query_text => ?,"
            + " min_score => ?::double precision, group_by_document => ?, context_chunks => ?, generation => ?)";

    private final DataSource dataSource;
    private final CollectionCatalog catalog;
    private final Function<Collection, EmbeddingProvider> providers;

    public Searcher(
            DataSource dataSource, CollectionCatalog catalog, Function<Collection, EmbeddingProvider> providers) {
        this.dataSource = dataSource;
        this.catalog = catalog;
        this.providers = providers;
    }

    /** A chunk beside a hit in its document. */
    public record ContextChunk(int seq, String content) {}

    /**
     * One hit: a chunk with its document's external id and title. {@code score} is the mode's
     * (README, "Search": cosine similarity for vector search, ts_rank_cd normalised to 0..1 for
     * text, the reciprocal rank fusion sum for hybrid), higher is better; {@code vectorScore} and
     * {@code textScore} are each ranking's own, null when that ranking did not find the chunk.
     * {@code matchingChunks} holds the seq of the document's other chunks the search found (one
     * hit per document), {@code context} its neighbouring chunks when asked for.
     */
    public record Hit(
            String documentId,
            String title,
            double score,
            String content,
            long chunkId,
            String metadata,
            int seq,
            List<Integer> matchingChunks,
            List<ContextChunk> context,
            Double vectorScore,
            Double textScore) {
        public Hit {
            matchingChunks = List.copyOf(matchingChunks);
            context = List.copyOf(context);
        }
    }

    /**
     * The {@code k} best hits of {@code collectionName} for {@code query} in the default mode, one
     * per document, filtered by {@code filterJson} (null for none); see {@link
     * #search(SearchJson.Request)}.
     */
    public List<Hit> search(String collectionName, String query, int k, String filterJson) throws SQLException {
        return search(new SearchJson.Request(query, collectionName, k, filterJson));
    }

    /**
     * The best hits for {@code request}; null if its collection does not exist, also when it was
     * dropped while the query was embedded.
     *
     * @throws SQLException as the database failed; SQLSTATE 22023 for a bad filter (the message
     *     names its path) and other values of class 22 the database refuses (a NUL in the filter)
     * @throws io.ragline.embeddings.EmbeddingException when the query cannot be embedded
     */
    public List<Hit> search(SearchJson.Request request) throws SQLException {
        Collection collection;
        try (Connection c = dataSource.getConnection()) {
            collection = catalog.find(c, request.collection());
        }
        if (collection == null) {
            return null;
        }
        List<Hit> hits = search(request, collection);
        if (hits == null) {
            // The generation read was pruned since (or the collection dropped): once more as stored now.
            try (Connection c = dataSource.getConnection()) {
                Collection now = catalog.reload(c, request.collection());
                if (now == null || now.generation() == collection.generation() && now.id() == collection.id()) {
                    return null;
                }
                collection = now;
            }
            hits = search(request, collection);
        }
        return hits;
    }

    /** The hits of {@code collection}'s generation, or null when search_documents no longer finds either. */
    private List<Hit> search(SearchJson.Request request, Collection collection) throws SQLException {
        // No connection is held while the model runs (an HTTP provider may take seconds).
        float[] vector =
                request.mode().needsVector() ? providers.apply(collection).embedQuery(request.query()) : null;
        try (Connection c = dataSource.getConnection()) {
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false); // search_documents sets its index options for the transaction
            try {
                // A bound on one search: a filter is evaluated per tuple an iterative scan visits,
                // and a large one must not hold a pooled connection for minutes (SQLSTATE 57014 when it does).
                try (java.sql.Statement bound = c.createStatement()) {
                    bound.execute("set local statement_timeout = '" + STATEMENT_TIMEOUT.toMillis() + "ms'");
                }
                List<Hit> hits = query(c, request, vector, collection.generation());
                c.commit();
                return hits;
            } catch (SQLException e) {
                rollback(c, e);
                if (UNKNOWN_COLLECTION.equals(e.getSQLState())) {
                    return null; // dropped, or its generation pruned, since the catalog saw it
                }
                throw e;
            } finally {
                restoreAutoCommit(c, auto);
            }
        }
    }

    private static List<Hit> query(Connection c, SearchJson.Request request, float[] vector, int generation)
            throws SQLException {
        List<Hit> hits = new ArrayList<>(request.k());
        try (PreparedStatement s = c.prepareStatement(SQL)) {
            // pgvector's text form, no float formatting of ours
            s.setObject(1, vector == null ? null : new PGvector(vector), Types.OTHER);
            s.setInt(2, request.k());
            s.setString(3, request.collection());
            s.setString(4, request.filterJson() == null ? "{}" : request.filterJson());
            s.setString(5, request.mode().wire());
            s.setString(6, request.query());
            s.setObject(7, request.minScore(), Types.DOUBLE);
            s.setBoolean(8, request.groupByDocument());
            s.setInt(9, request.context());
            s.setInt(10, generation);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    hits.add(new Hit(
                            rs.getString(2),
                            rs.getString(3),
                            rs.getDouble(6),
                            rs.getString(4),
                            rs.getLong(1),
                            rs.getString(5),
                            rs.getInt(7),
                            List.of((Integer[]) rs.getArray(8).getArray()),
                            context(rs.getString(9)),
                            (Double) rs.getObject(10),
                            (Double) rs.getObject(11)));
                }
            }
        }
        return hits;
    }

    /** {@code [{"seq", "content"}, ...]} as the database wrote it. */
    private static List<ContextChunk> context(String json) throws SQLException {
        try {
            List<ContextChunk> chunks = new ArrayList<>();
            for (JsonNode n : JSON.readTree(json)) {
                chunks.add(new ContextChunk(
                        n.path("seq").intValue(), n.path("content").asText()));
            }
            return chunks;
        } catch (IOException e) {
            throw new SQLException("search_documents answered a context that is not JSON", e);
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
