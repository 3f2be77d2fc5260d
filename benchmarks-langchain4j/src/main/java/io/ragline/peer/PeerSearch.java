package io.ragline.peer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.pgvector.PgVectorEmbeddingStore;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;

/**
 * {@code search}: the peer's ranking of documents for each query, through
 * {@code PgVectorEmbeddingStore.search}. Segments are found nearest first; their documents' ids,
 * each once, are the ranking. The store is asked for more segments than {@code k} (and more
 * again when segments of the same documents fill them) so that {@code k} distinct documents are
 * found when the table has them.
 */
final class PeerSearch {
    /** The most segments asked for one query; the session's {@code hnsw.ef_search} matches it. */
    static final int MAX_SEGMENTS = 400;

    private PeerSearch() {}

    static void run(DataSource ds, PeerModel modelName, String table, Path queriesFile, int k, PrintStream out)
            throws Exception {
        List<PeerFiles.Query> queries = PeerFiles.queries(queriesFile);
        EmbeddingModel model = modelName.load();
        PgVectorEmbeddingStore store = PgVectorEmbeddingStore.datasourceBuilder()
                .datasource(ds)
                .table(table)
                .dimension(PeerModel.DIMENSIONS)
                .createTable(false)
                .useIndex(false)
                .build();
        for (PeerFiles.Query q : queries) {
            Embedding query = model.embed(q.query()).content();
            ObjectNode line = PeerFiles.JSON.createObjectNode();
            line.put("query", q.query());
            ArrayNode ids = line.putArray("ids");
            ranking(store, query, k).forEach(ids::add);
            out.println(line);
        }
        out.flush();
    }

    private static List<String> ranking(PgVectorEmbeddingStore store, Embedding query, int k) {
        int asked = Math.min(4 * k, MAX_SEGMENTS);
        while (true) {
            List<EmbeddingMatch<TextSegment>> matches = store.search(EmbeddingSearchRequest.builder()
                            .queryEmbedding(query)
                            .maxResults(asked)
                            .build())
                    .matches();
            Set<String> ids = new LinkedHashSet<>();
            for (EmbeddingMatch<TextSegment> m : matches) {
                ids.add(m.embedded().metadata().getString("id"));
            }
            if (ids.size() >= k || matches.size() < asked || asked >= MAX_SEGMENTS) {
                return new ArrayList<>(ids).subList(0, Math.min(k, ids.size()));
            }
            asked = Math.min(2 * asked, MAX_SEGMENTS);
        }
    }
}
