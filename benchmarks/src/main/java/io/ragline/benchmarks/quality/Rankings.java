package io.ragline.benchmarks.quality;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.benchmarks.corpus.KnownItemQuery;
import io.ragline.embedding.search.SearchServer;
import io.ragline.embedding.search.Searcher;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Each side's ranking of a query: the first {@link Retrieval#K} distinct documents, best first. */
public final class Rankings {
    /**
     * Chunks asked of Ragline's search for {@link Retrieval#K} distinct documents: at most 40,
     * {@code search_documents} searches the HNSW index with the {@code ef_search} a user's top-10
     * search gets (40), so the index answers as it answers users.
     */
    public static final int CHUNKS_ASKED = 40;

    private Rankings() {}

    /**
     * Ragline's ranking of {@code query} in {@code collection}, from {@link Searcher} (what {@code
     * POST /search} and {@code ragline search} run: the query embedded with the collection's model
     * and its query prefix, {@code search_documents} for the nearest chunks). When the first {@link
     * #CHUNKS_ASKED} chunks hold fewer than {@link Retrieval#K} documents, asks for {@link
     * SearchServer#MAX_K}.
     *
     * @throws IllegalStateException if the collection does not exist
     */
    public static List<String> ragline(Searcher searcher, String collection, String query) throws SQLException {
        List<String> top = Retrieval.distinctTop(documents(searcher, collection, query, CHUNKS_ASKED), Retrieval.K);
        if (top.size() < Retrieval.K) {
            top = Retrieval.distinctTop(documents(searcher, collection, query, SearchServer.MAX_K), Retrieval.K);
        }
        return top;
    }

    private static List<String> documents(Searcher searcher, String collection, String query, int k)
            throws SQLException {
        List<Searcher.Hit> hits = searcher.search(collection, query, k, null);
        if (hits == null) {
            throw new IllegalStateException("no collection " + collection + " to search");
        }
        return hits.stream().map(Searcher.Hit::documentId).toList();
    }

    /**
     * The peer's rankings from the JSON lines of its {@code search} ({@code {"query": ..., "ids":
     * [...]}}, one per query, in the order asked), cut to {@link Retrieval#K}.
     *
     * @throws IllegalStateException if it answered other queries than {@code asked}, or in another order
     */
    public static List<List<String>> peer(List<KnownItemQuery> asked, List<JsonNode> answers) {
        if (answers.size() != asked.size()) {
            throw new IllegalStateException("the peer answered " + answers.size() + " of " + asked.size() + " queries");
        }
        List<List<String>> out = new ArrayList<>(asked.size());
        for (int i = 0; i < asked.size(); i++) {
            JsonNode answer = answers.get(i);
            if (!asked.get(i).query().equals(answer.path("query").asText())) {
                throw new IllegalStateException("the peer's answer " + (i + 1) + " is not to query " + (i + 1));
            }
            List<String> ids = new ArrayList<>();
            answer.path("ids").forEach(id -> ids.add(id.asText()));
            out.add(Retrieval.distinctTop(ids, Retrieval.K));
        }
        return out;
    }
}
