package io.ragline.benchmarks.quality;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.benchmarks.corpus.KnownItemQuery;
import io.ragline.embedding.search.SearchJson;
import io.ragline.embedding.search.SearchMode;
import io.ragline.embedding.search.Searcher;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Each side's ranking of a query: the first {@link Retrieval#K} distinct documents, best first. */
public final class Rankings {
    private Rankings() {}

    /**
     * Ragline's ranking of {@code query} in {@code collection} in {@code mode}, from {@link Searcher}
     * (what {@code POST /search} and {@code ragline search} run: the query embedded with the
     * collection's model and its query prefix unless the mode is text, then {@code
     * search_documents}), one hit per document as users get them by default: the first {@link
     * Retrieval#K} documents, fewer when the mode finds fewer (full text finds only documents that
     * hold every word of the query).
     *
     * @throws IllegalStateException if the collection does not exist
     */
    public static List<String> ragline(Searcher searcher, String collection, String query, SearchMode mode)
            throws SQLException {
        List<Searcher.Hit> hits =
                searcher.search(new SearchJson.Request(query, collection, Retrieval.K, null, mode, null, true, 0));
        if (hits == null) {
            throw new IllegalStateException("no collection " + collection + " to search");
        }
        return Retrieval.distinctTop(hits.stream().map(Searcher.Hit::documentId).toList(), Retrieval.K);
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
