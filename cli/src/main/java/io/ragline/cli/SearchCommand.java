package io.ragline.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.Env;
import io.ragline.embedding.ProviderRegistry;
import io.ragline.embedding.search.Searcher;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingSettings;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ragline search "text"}: the same search as {@code POST /search}, run in this process
 * with the collection's model (the ONNX model loads in a second or two).
 */
@Command(
        name = "search",
        mixinStandardHelpOptions = true,
        description = "Search a collection by meaning and print the best chunks.")
final class SearchCommand implements Callable<Integer> {
    @Parameters(paramLabel = "TEXT", description = "What to look for, in your own words.")
    String text;

    @Option(names = "--collection", defaultValue = "default", description = "Collection (default ${DEFAULT-VALUE}).")
    String collection;

    @Option(
            names = {"-k", "--k"},
            defaultValue = "5",
            description = "How many chunks (default ${DEFAULT-VALUE}).")
    int k;

    @Option(
            names = "--filter",
            description = "JSON object matched against document metadata, e.g. '{\"lang\":\"en\"}'.")
    String filter;

    @Override
    public Integer call() {
        Env env = Env.load();
        OperatorDatabase db = OperatorDatabase.read(env);
        EmbeddingSettings embedding = EmbeddingSettings.from(env);
        if (k < 1 || k > 100) {
            env.problem("--k must be between 1 and 100");
        }
        if (!OperatorDatabase.valid(env, "search")) {
            return 2;
        }
        try (HikariDataSource pool = db.pool("search", 2);
                ProviderRegistry providers = new ProviderRegistry(embedding, pool)) {
            List<Searcher.Hit> hits = new Searcher(pool, new CollectionCatalog(Duration.ofSeconds(10)), providers)
                    .search(collection, text, k, filter);
            if (hits == null) {
                System.err.println("ragline search: no collection named '" + collection + "'");
                return 1;
            }
            print(hits);
            return 0;
        } catch (SQLException | EmbeddingException e) {
            System.err.println("ragline search: " + e.getMessage());
            return 1;
        }
    }

    /** Rank, score, document id and title, then the first lines of the chunk. */
    static void print(List<Searcher.Hit> hits) {
        if (hits.isEmpty()) {
            System.out.println("  (nothing found: is anything embedded yet? see `ragline collections list`)");
        }
        int rank = 1;
        for (Searcher.Hit h : hits) {
            System.out.printf(
                    Locale.ROOT,
                    "%2d. %.3f  %s%s%n",
                    rank++,
                    h.score(),
                    h.documentId(),
                    h.title() == null || h.title().equals(h.documentId()) ? "" : "  (" + h.title() + ")");
            String snippet = h.content().replaceAll("\\s+", " ").strip();
            System.out.println("      " + (snippet.length() > 160 ? snippet.substring(0, 160) + "…" : snippet));
        }
    }
}
