package io.ragline.cli;

import io.ragline.contracts.status.CollectionStatus;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionException;
import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.collections.CollectionSettings;
import io.ragline.core.collections.CollectionSummary;
import io.ragline.core.collections.IndexBuild;
import io.ragline.core.collections.Reembedding;
import io.ragline.core.config.Env;
import io.ragline.core.db.ConnectionProperties;
import io.ragline.core.db.Database;
import io.ragline.embeddings.ModelCatalog;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ragline collections create|list|show|update|reembed|reindex|delete|migrate|rollback|prune}: the named pipelines
 * documents go into, each with its embedding model, dimensions and chunking, its own vector index
 * (distance, HNSW or IVFFlat, storage: {@link CollectionIndexOptions}, fixed at create), a status
 * and the last error.
 */
@Command(
        name = "collections",
        mixinStandardHelpOptions = true,
        description = "Create, list, show, update, re-embed, reindex, delete or migrate collections (model,"
                + " dimensions, chunking, vector index).",
        subcommands = {
            CollectionsCommand.Create.class,
            CollectionsCommand.List.class,
            CollectionIndexCommands.Show.class,
            CollectionsCommand.Update.class,
            CollectionsCommand.Reembed.class,
            CollectionIndexCommands.Reindex.class,
            CollectionsCommand.Delete.class,
            CollectionMigrationCommands.Migrate.class,
            CollectionMigrationCommands.Rollback.class,
            CollectionMigrationCommands.Prune.class
        })
final class CollectionsCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    /** Runs {@code work} on one connection; exit 0, 1 on a database error, 2 on bad settings. */
    static int withConnection(String command, Env env, SqlWork work) {
        OperatorDatabase db = OperatorDatabase.read(env);
        if (!OperatorDatabase.valid(env, command)) {
            return 2;
        }
        try (Connection c =
                Database.connect(db.url(), db.schema(), "collections", ConnectionProperties.Use.LONG_STATEMENTS)) {
            return work.run(c);
        } catch (SQLException e) {
            System.err.println("ragline " + command + ": " + e.getMessage());
            return 1;
        }
    }

    @FunctionalInterface
    interface SqlWork {
        int run(Connection c) throws SQLException;
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a collection.")
    static final class Create implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "Lower-case letters, digits, '-' and '_'.")
        String name;

        @Option(
                names = "--provider",
                defaultValue = "onnx",
                description = "onnx, openai or pgml (default ${DEFAULT-VALUE}).")
        String provider;

        @Option(
                names = "--model",
                description =
                        "onnx: one of " + ModelCatalog.DEFAULT_MODEL + " (default, int8), all-MiniLM-L6-v2 (fp32),"
                                + " bge-small-en-v1.5, bge-small-en-v1.5-q; openai/pgml: the service's model name.")
        String model;

        @Option(names = "--dimensions", description = "Vector length (onnx: taken from the model).")
        Integer dimensions;

        @Option(
                names = "--chunk-size",
                defaultValue = "" + CollectionSettings.DEFAULT_CHUNK_SIZE_TOKENS,
                description = "Tokens per chunk (default ${DEFAULT-VALUE}).")
        int chunkSize;

        @Option(
                names = "--chunk-overlap",
                defaultValue = "" + CollectionSettings.DEFAULT_CHUNK_OVERLAP_TOKENS,
                description = "Tokens of overlap (default ${DEFAULT-VALUE}).")
        int chunkOverlap;

        @Option(
                names = "--template",
                defaultValue = "{title}\n{chunk}",
                description = "What is embedded for each chunk; {title} and {chunk} are replaced.")
        String template;

        @Mixin
        CollectionIndexOptions index;

        @Option(
                names = "--index-after-load",
                description = "Create it without its HNSW index, for a first bulk load: searches scan exactly until"
                        + " `ragline collections reindex NAME` builds the index once over the loaded vectors (a fourth"
                        + " to a fifth of the CPU of inserting each vector into it).")
        boolean indexAfterLoad;

        @Override
        public Integer call() {
            Env env = Env.load();
            CollectionSettings asked = new CollectionSettings(
                    provider, model, dimensions, chunkSize, chunkOverlap, template.replace("\\n", "\n"), index.asked());
            try {
                asked = asked.forNew(name, ModelCatalog.bundled());
            } catch (CollectionException e) {
                e.fieldErrors().forEach((field, problem) -> env.problem(option(field) + " " + problem));
            }
            CollectionSettings checked = asked;
            return withConnection("collections create", env, c -> {
                c.setAutoCommit(false);
                try {
                    new CollectionRegistry(ModelCatalog.bundled())
                            .create(c, name, checked, IndexBuild.of(indexAfterLoad));
                } catch (CollectionException e) {
                    c.rollback();
                    System.err.println("ragline collections create: " + e.getMessage());
                    return e.reason() == CollectionException.Reason.EXISTS ? 1 : 2;
                }
                c.commit();
                System.out.println("created collection " + name + " (" + checked.provider() + " " + checked.model()
                        + ", " + checked.dimensions() + " dimensions, chunks of " + checked.chunkSizeTokens()
                        + " tokens, overlap " + checked.chunkOverlapTokens() + "; "
                        + CollectionIndexOptions.describe(checked.index()) + ")");
                if (indexAfterLoad && checked.index().type().equals("hnsw")) {
                    System.out.println("its HNSW index is left out: searches scan exactly until `ragline collections"
                            + " reindex " + name + "` builds it, once the load is done");
                }
                return 0;
            });
        }
    }

    /** The option of the CLI that sets {@code field} (the registry names fields as the JSON API does). */
    static String option(String field) {
        String index = CollectionIndexOptions.option(field);
        if (index != null) {
            return index;
        }
        return switch (field) {
            case "name" -> "NAME";
            case "embedding_provider" -> "--provider";
            case "embedding_model" -> "--model";
            case "dimensions" -> "--dimensions";
            case "chunk_size_tokens" -> "--chunk-size";
            case "chunk_overlap_tokens" -> "--chunk-overlap";
            case "chunk_template" -> "--template";
            default -> field;
        };
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List collections with document counts.")
    static final class List implements Callable<Integer> {
        @Override
        public Integer call() {
            return withConnection("collections list", Env.load(), c -> {
                System.out.printf(
                        Locale.ROOT,
                        "%-20s %-8s %-22s %5s %6s %7s %-13s %-15s %-7s %s%n",
                        "NAME",
                        "PROVIDER",
                        "MODEL",
                        "DIMS",
                        "CHUNK",
                        "OVERLAP",
                        "DISTANCE",
                        "INDEX",
                        "STATUS",
                        "DOCUMENTS");
                for (CollectionSummary summary :
                        new CollectionRegistry(ModelCatalog.bundled()).list(c, null, Integer.MAX_VALUE)) {
                    Collection col = summary.collection();
                    System.out.printf(
                            Locale.ROOT,
                            "%-20s %-8s %-22s %5d %6d %7d %-13s %-15s %-7s %s%n",
                            col.name(),
                            col.provider(),
                            col.model(),
                            col.dimensions(),
                            col.chunkSizeTokens(),
                            col.chunkOverlapTokens(),
                            col.index().distance(),
                            col.index().type() + (col.index().halfvec() ? " halfvec" : ""),
                            col.status(),
                            counts(summary));
                    if (summary.migration() != null) {
                        System.out.println(
                                "    migrating: " + CollectionMigrationCommands.describe(summary.migration()));
                    }
                    if (!summary.indexBuilt()) {
                        System.out.println("    no vector index: searches scan exactly; once it is loaded,"
                                + " `ragline collections reindex " + col.name() + "` builds it");
                    }
                    if (summary.lastError() != null) {
                        System.out.println("    last error: " + summary.lastError());
                    }
                }
                return 0;
            });
        }

        /** The statuses its documents have, with how many: "chunked 1, embedded 2", or "none". */
        static String counts(CollectionSummary summary) {
            String counts = summary.counts().entrySet().stream()
                    .filter(e -> e.getValue() > 0)
                    .sorted(Map.Entry.comparingByKey())
                    .map(e -> e.getKey().stored() + " " + e.getValue())
                    .collect(Collectors.joining(", "));
            return counts.isEmpty() ? "none" : counts;
        }
    }

    @Command(
            name = "update",
            mixinStandardHelpOptions = true,
            description =
                    "Change chunking or template (new documents use it; re-publish to re-chunk old ones), or pause and"
                            + " resume embedding. The vector index options are fixed at create: giving one is refused.")
    static final class Update implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--chunk-size")
        Integer chunkSize;

        @Option(names = "--chunk-overlap")
        Integer chunkOverlap;

        @Option(names = "--template")
        String template;

        @Option(
                names = "--status",
                description = "paused: documents are still stored and chunked, embedding waits;"
                        + " active: resume, asking again for the embeddings of every document waiting.")
        String status;

        @Mixin
        CollectionIndexOptions index;

        @Override
        public Integer call() {
            Env env = Env.load();
            CollectionStatus target = null;
            if (status != null && !status.equals("active") && !status.equals("paused")) {
                env.problem("--status must be active or paused, not '" + status + "'");
            } else if (status != null) {
                target = CollectionStatus.fromStored(status);
            }
            CollectionStatus asked = target;
            return withConnection("collections update", env, c -> {
                c.setAutoCommit(false);
                CollectionRegistry registry = new CollectionRegistry(ModelCatalog.bundled());
                int requested = 0;
                try {
                    registry.update(
                            c,
                            name,
                            new CollectionSettings(
                                    null,
                                    null,
                                    null,
                                    chunkSize,
                                    chunkOverlap,
                                    template == null ? null : template.replace("\\n", "\n"),
                                    index.asked()));
                    if (asked != null) {
                        requested = registry.setStatus(c, name, asked).requested();
                    }
                } catch (CollectionException e) {
                    c.rollback();
                    System.err.println("ragline collections update: " + message(e));
                    return e.reason() == CollectionException.Reason.INVALID ? 2 : 1;
                }
                c.commit();
                System.out.println("updated collection " + name
                        + (status == null ? "" : " (status " + status + ")")
                        + (requested == 0 ? "" : ": asked again for the embeddings of " + requested + " document(s)"));
                return 0;
            });
        }
    }

    /** The registry's refusal in the CLI's words: each field refused named by its option. */
    static String message(CollectionException e) {
        if (e.fieldErrors().isEmpty()) {
            return e.getMessage();
        }
        return e.fieldErrors().entrySet().stream()
                .map(f -> option(f.getKey()) + " " + f.getValue())
                .collect(Collectors.joining("; "));
    }

    @Command(
            name = "reembed",
            mixinStandardHelpOptions = true,
            description = "Compute the vectors of every document again (after a template change): its embedded and"
                    + " failed documents lose their vectors and wait, with the others waiting, for new ones.")
    static final class Reembed implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            return withConnection("collections reembed", Env.load(), c -> {
                c.setAutoCommit(false);
                int requested;
                try {
                    requested = Reembedding.collection(c, name);
                } catch (CollectionException e) {
                    c.rollback();
                    System.err.println("ragline collections reembed: " + e.getMessage());
                    return 1;
                }
                c.commit();
                System.out.println("asked for the embeddings of " + requested + " document(s) of " + name);
                return 0;
            });
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Delete a collection with its documents, chunks and vectors.")
    static final class Delete implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--yes", description = "Confirm: the documents and vectors are gone for good.")
        boolean yes;

        @Override
        public Integer call() {
            Env env = Env.load();
            if (!yes) {
                env.problem("deleting collection '" + name + "' removes all its documents and vectors: add --yes");
            }
            return withConnection("collections delete", env, c -> {
                try {
                    new CollectionRegistry(ModelCatalog.bundled()).delete(c, name);
                } catch (CollectionException e) {
                    System.err.println("ragline collections delete: " + e.getMessage());
                    return 1;
                }
                System.out.println("deleted collection " + name);
                return 0;
            });
        }
    }
}
