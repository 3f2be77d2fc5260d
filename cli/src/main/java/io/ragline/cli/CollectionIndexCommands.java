package io.ragline.cli;

import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionException;
import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.collections.CollectionSummary;
import io.ragline.core.config.Env;
import io.ragline.embeddings.ModelCatalog;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ragline collections show|reindex}: one collection's settings, and its vector index built again. */
final class CollectionIndexCommands {
    private CollectionIndexCommands() {}

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Show one collection: model, chunking, vector index, status and document counts.")
    static final class Show implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return CollectionsCommand.withConnection("collections show", Env.load(), c -> {
                CollectionSummary summary;
                try {
                    summary = new CollectionRegistry(ModelCatalog.bundled()).get(c, name);
                } catch (CollectionException e) {
                    System.err.println("ragline collections show: " + e.getMessage());
                    return 1;
                }
                Collection col = summary.collection();
                System.out.println("name:       " + col.name());
                System.out.println("model:      " + col.provider() + " " + col.model() + ", " + col.dimensions()
                        + " dimensions (generation " + col.generation() + ", serving)");
                if (summary.migration() != null) {
                    System.out.println("migration:  " + CollectionMigrationCommands.describe(summary.migration()));
                }
                System.out.println(
                        "chunking:   " + col.chunkSizeTokens() + " tokens, overlap " + col.chunkOverlapTokens()
                                + ", template " + col.chunkTemplate().replace("\n", "\\n"));
                System.out.println("index:      " + CollectionIndexOptions.describe(col.index()));
                System.out.println("built:      "
                        + (summary.indexBuilt()
                                ? "yes"
                                : "no: searches scan exactly until `ragline collections reindex " + col.name() + "`"));
                System.out.println("status:     " + col.status());
                System.out.println("documents:  " + CollectionsCommand.List.counts(summary));
                if (summary.lastError() != null) {
                    System.out.println("last error: " + summary.lastError());
                }
                return 0;
            });
        }
    }

    @Command(
            name = "reindex",
            mixinStandardHelpOptions = true,
            description = "Build a collection's vector index again from the vectors it has now: an IVFFlat index"
                    + " once the collection is loaded (its lists are trained on the rows present) and after the data"
                    + " has drifted; an HNSW one whole, or for the first time after a load into a collection created"
                    + " with --index-after-load. While a migration waits for its new generation's index (IVFFlat, or"
                    + " asked for after the load), that index is the one built, and the switch follows. Vector writes"
                    + " to every collection wait while it builds.")
    static final class Reindex implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return CollectionsCommand.withConnection("collections reindex", Env.load(), c -> {
                c.setAutoCommit(false);
                String index;
                try {
                    index = new CollectionRegistry(ModelCatalog.bundled()).reindex(c, name);
                } catch (CollectionException e) {
                    c.rollback();
                    System.err.println("ragline collections reindex: " + e.getMessage());
                    return 1;
                }
                c.commit();
                System.out.println(
                        index == null
                                ? "collection " + name
                                        + " has no vectors yet: its IVFFlat index is built by a reindex once it"
                                        + " has"
                                : "built index " + index + " of collection " + name);
                return 0;
            });
        }
    }
}
