package io.ragline.cli;

import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.collections.CollectionException;
import io.ragline.core.collections.CollectionMigrations;
import io.ragline.core.collections.IndexBuild;
import io.ragline.core.config.Env;
import io.ragline.embeddings.ModelCatalog;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ragline collections migrate|rollback|prune}: moving a collection to another embedding
 * model without downtime ({@link CollectionMigrations}; docs/architecture.md section 11, "Embedding
 * generations"). Run as the schema's owner (a generation has its own vector index). Exit codes: 0
 * done, 1 refused by the collection's state (not found, a migration running, nothing kept) or a
 * database error, 2 a bad request (an unknown model, nothing that differs from what it serves with, a bad
 * chunking).
 */
final class CollectionMigrationCommands {
    private CollectionMigrationCommands() {}

    /** A running migration in one line: "to M (generation G): d of n vectors (p%)", with what it waits for. */
    static String describe(CollectionMigrations.Progress g) {
        return String.format(
                        java.util.Locale.ROOT,
                        "to %s (generation %d): %d of %d %s (%d%%)",
                        g.model(),
                        g.generation(),
                        g.done(),
                        g.needed(),
                        g.unit(),
                        g.needed() == 0 ? 100 : g.done() * 100 / g.needed())
                + (g.refused() > 0 ? ", " + g.refused() + " document(s) refused" : "")
                + (g.waitsForIndex() ? ", waiting for its index" : "");
    }

    @Command(
            name = "migrate",
            mixinStandardHelpOptions = true,
            description = "Move a collection to another embedding model or chunk size without downtime: the new"
                    + " vectors are built in the background through the pipeline while searches use the current"
                    + " ones, and the embedding-worker switches when every searchable document has them. --status"
                    + " shows progress.")
    static final class Migrate implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--model", description = "The new model (onnx: a bundled one).")
        String model;

        @Option(names = "--provider", description = "onnx, openai or pgml (default: the collection's).")
        String provider;

        @Option(names = "--dimensions", description = "Vector length (onnx: taken from the model).")
        Integer dimensions;

        @Option(
                names = "--chunk-size",
                description = "Another chunk size in tokens: every document is cut again from its kept text"
                        + " (a document stored before Ragline kept texts must be published again first).")
        Integer chunkSize;

        @Option(
                names = "--chunk-overlap",
                description = "The new chunking's overlap in tokens (default: the current one if below the size,"
                        + " else an eighth of it).")
        Integer chunkOverlap;

        @Option(
                names = "--index-after-load",
                description =
                        "Leave the new generation's HNSW index out while its vectors are written, and build it"
                                + " once over them with `ragline collections reindex NAME` when the backfill is complete"
                                + " (a fourth to a fifth of the CPU of inserting each vector into it); the switch waits for it.")
        boolean indexAfterLoad;

        @Option(names = "--status", description = "Show the running migration's progress and start nothing.")
        boolean status;

        @Override
        public Integer call() {
            Env env = Env.load();
            if (!status && model == null && chunkSize == null && chunkOverlap == null) {
                env.problem("--model or --chunk-size is required (or --status to show a migration's progress)");
            }
            CollectionMigrations migrations = new CollectionMigrations(ModelCatalog.bundled());
            return CollectionsCommand.withConnection("collections migrate", env, c -> {
                try {
                    return status ? status(c, migrations) : start(c, migrations);
                } catch (CollectionException e) {
                    if (!c.getAutoCommit()) {
                        c.rollback();
                    }
                    System.err.println("ragline collections migrate: " + CollectionsCommand.message(e));
                    return e.reason() == CollectionException.Reason.INVALID ? 2 : 1;
                }
            });
        }

        private int start(Connection c, CollectionMigrations migrations) throws SQLException, CollectionException {
            c.setAutoCommit(false);
            CollectionMigrations.Started s = migrations.migrate(
                    c, name, provider, model, dimensions, chunkSize, chunkOverlap, IndexBuild.of(indexAfterLoad));
            c.commit();
            boolean rechunk = s.recut();
            System.out.println("migrating collection " + name + " from "
                    + s.collection().model() + " to "
                    + s.building().model() + " (generation " + s.building().number() + ", "
                    + s.building().dimensions() + " dimensions"
                    + (rechunk ? ", chunks cut again" : "") + "): "
                    + (rechunk
                            ? s.requested() + " document(s) to cut again from their kept text and embed"
                            : "asked for the vectors of " + s.requested() + " document(s)")
                    + "; searches use generation " + s.collection().generation() + " until the switch"
                    + " (ragline collections migrate " + name + " --status)");
            if (indexAfterLoad) {
                System.out.println("its vector index is left out until the backfill is complete: then run `ragline"
                        + " collections reindex " + name + "` as the schema owner, and the switch follows");
            }
            return 0;
        }

        private int status(Connection c, CollectionMigrations migrations) throws SQLException, CollectionException {
            Optional<CollectionMigrations.Progress> p = migrations.progress(c, name);
            Collection serving = CollectionCatalog.stored(c, name);
            if (p.isEmpty()) {
                System.out.println("collection " + name + ": no migration running; generation " + serving.generation()
                        + " (" + serving.model() + ") serves");
                return 0;
            }
            CollectionMigrations.Progress g = p.get();
            System.out.printf(
                    "collection %s: migrating to %s (generation %d): %d of %d %s (%d%%); generation %d (%s)"
                            + " serves until the switch%n",
                    name,
                    g.model(),
                    g.generation(),
                    g.done(),
                    g.needed(),
                    g.unit(),
                    g.needed() == 0 ? 100 : g.done() * 100 / g.needed(),
                    serving.generation(),
                    serving.model());
            if (g.refused() > 0) {
                System.out.println("collection " + name + ": " + g.refusalAdvice(name));
            }
            if (g.waitsForIndex()) {
                System.out.println("collection " + name + ": " + g.indexAdvice(name));
            }
            return 0;
        }
    }

    @Command(
            name = "rollback",
            mixinStandardHelpOptions = true,
            description = "Stop a running migration (its vectors are deleted), or serve the previous model's kept"
                    + " generation again.")
    static final class Rollback implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            CollectionMigrations migrations = new CollectionMigrations(ModelCatalog.bundled());
            return CollectionsCommand.withConnection("collections rollback", Env.load(), c -> {
                c.setAutoCommit(false);
                CollectionMigrations.RolledBack back;
                try {
                    back = migrations.rollback(c, name);
                } catch (CollectionException e) {
                    c.rollback();
                    System.err.println("ragline collections rollback: " + e.getMessage());
                    return 1;
                }
                c.commit();
                if (back.abandoned() != null) {
                    System.out.println("stopped the migration of collection " + name + " to "
                            + back.abandoned().model() + " and deleted its vectors");
                } else {
                    System.out.println("collection " + name + " serves generation "
                            + back.switched().generation()
                            + " (" + back.switched().model() + ") again; generation "
                            + back.switched().fromGeneration() + " ("
                            + back.switched().fromModel()
                            + ") is kept until collections prune");
                }
                return 0;
            });
        }
    }

    @Command(
            name = "prune",
            mixinStandardHelpOptions = true,
            description = "Delete the kept generations of a collection (the previous model's vectors and index):"
                    + " no rollback is possible afterwards. Refused while a deployed classifier was trained on one,"
                    + " unless --force.")
    static final class Prune implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(
                names = "--force",
                description = "Prune even a generation a deployed classifier was trained on: that model then predicts"
                        + " nothing until the project is trained again.")
        boolean force;

        @Override
        public Integer call() {
            CollectionMigrations migrations = new CollectionMigrations(ModelCatalog.bundled());
            return CollectionsCommand.withConnection("collections prune", Env.load(), c -> {
                c.setAutoCommit(false);
                long deleted;
                try {
                    deleted = migrations.prune(c, name, force);
                } catch (CollectionException e) {
                    c.rollback();
                    System.err.println("ragline collections prune: " + e.getMessage());
                    return 1;
                }
                c.commit();
                System.out.println("pruned collection " + name + ": deleted " + deleted + " vector(s) of its kept"
                        + " generation(s) and their index");
                return 0;
            });
        }
    }
}
