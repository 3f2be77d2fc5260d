package io.ragline.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.Env;
import io.ragline.embedding.ProviderRegistry;
import io.ragline.embedding.search.SearchJson;
import io.ragline.embedding.search.SearchMode;
import io.ragline.embedding.search.SearchRefusal;
import io.ragline.embedding.search.Searcher;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingSettings;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ragline search "text"}: the same search as {@code POST /search}, run in this process
 * with the collection's model (the ONNX model loads in a second or two; text search needs none).
 */
@Command(
        name = "search",
        mixinStandardHelpOptions = true,
        description = "Search a collection by meaning, by words or both, and print the best documents.")
final class SearchCommand implements Callable<Integer> {
    @Parameters(paramLabel = "TEXT", description = "What to look for, in your own words.")
    String text;

    @Option(names = "--collection", defaultValue = "default", description = "Collection (default ${DEFAULT-VALUE}).")
    String collection;

    @Option(
            names = {"-k", "--k"},
            defaultValue = "5",
            description = "How many hits (default ${DEFAULT-VALUE}).")
    int k;

    @Option(
            names = "--filter",
            description = "JSON filter on document metadata, e.g. '{\"lang\":\"en\"}' or"
                    + " '{\"year\":{\"$gte\":2020},\"$or\":[{\"tag\":\"a\"},{\"tag\":\"b\"}]}' (README, Search).")
    String filter;

    @Option(
            names = "--mode",
            paramLabel = "MODE",
            description = "vector (by meaning), text (by words) or hybrid (both, fused by rank); default hybrid.")
    String mode;

    @Option(
            names = "--min-score",
            paramLabel = "X",
            description = "Leave out hits scoring below X (the score's meaning depends on the mode: README, Search).")
    Double minScore;

    @Option(names = "--all-chunks", description = "One hit per chunk instead of one per document.")
    boolean allChunks;

    @Option(
            names = "--context",
            paramLabel = "N",
            defaultValue = "0",
            description = "Also print the N chunks either side of each hit (0 to 5; default ${DEFAULT-VALUE}).")
    int context;

    @Override
    public Integer call() {
        Env env = Env.load();
        OperatorDatabase db = OperatorDatabase.read(env);
        EmbeddingSettings embedding = EmbeddingSettings.from(env);
        if (k < 1 || k > SearchJson.MAX_K) {
            env.problem("--k must be between 1 and " + SearchJson.MAX_K);
        }
        if (context < 0 || context > SearchJson.MAX_CONTEXT) {
            env.problem("--context must be between 0 and " + SearchJson.MAX_CONTEXT);
        }
        SearchMode searchMode = mode == null ? SearchMode.DEFAULT : SearchMode.fromWire(mode);
        if (searchMode == null) {
            env.problem("--mode must be vector, text or hybrid, not '" + mode + "'");
        }
        if (minScore != null && !Double.isFinite(minScore)) {
            env.problem("--min-score must be a number");
        }
        if (!OperatorDatabase.valid(env, "search")) {
            return 2;
        }
        SearchJson.Request request =
                new SearchJson.Request(text, collection, k, filter, searchMode, minScore, !allChunks, context);
        try (HikariDataSource pool = db.pool("search", 2);
                ProviderRegistry providers = new ProviderRegistry(embedding, pool)) {
            List<Searcher.Hit> hits =
                    new Searcher(pool, new CollectionCatalog(Duration.ofSeconds(10)), providers).search(request);
            if (hits == null) {
                System.err.println("ragline search: no collection named '" + collection + "'");
                return 1;
            }
            print(hits);
            return 0;
        } catch (SQLException e) {
            Optional<SearchRefusal> refusal = SearchRefusal.of(e); // the request's fault, as on HTTP (400)
            System.err.println(
                    "ragline search: " + refusal.map(SearchRefusal::detail).orElse(e.getMessage()));
            return refusal.isPresent() ? 2 : 1;
        } catch (EmbeddingException e) {
            System.err.println("ragline search: " + e.getMessage());
            return 1;
        }
    }

    /**
     * Rank, score, document id and title, the chunk's position and the other matching chunks', then
     * the first lines of the chunk and of each context chunk.
     */
    static void print(List<Searcher.Hit> hits) {
        if (hits.isEmpty()) {
            System.out.println("  (nothing found: is anything embedded yet? see `ragline collections list`)");
        }
        int rank = 1;
        for (Searcher.Hit h : hits) {
            System.out.printf(
                    Locale.ROOT,
                    "%2d. %.3f  %s%s  chunk %d%s%n",
                    rank++,
                    h.score(),
                    h.documentId(),
                    h.title() == null || h.title().equals(h.documentId()) ? "" : "  (" + h.title() + ")",
                    h.seq(),
                    h.matchingChunks().isEmpty() ? "" : ", also " + h.matchingChunks());
            System.out.println("      " + snippet(h.content()));
            for (Searcher.ContextChunk c : h.context()) {
                System.out.printf(Locale.ROOT, "      [%d] %s%n", c.seq(), snippet(c.content()));
            }
        }
    }

    private static String snippet(String content) {
        String line = content.replaceAll("\\s+", " ").strip();
        return line.length() > 160 ? line.substring(0, 160) + "…" : line;
    }
}
