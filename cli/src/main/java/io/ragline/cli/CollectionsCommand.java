package io.ragline.cli;

import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import io.ragline.core.outbox.Outbox;
import io.ragline.embeddings.EmbeddingModelSpec;
import io.ragline.embeddings.ModelCatalog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ragline collections create|list|update|delete}: the named pipelines documents go into,
 * each with its embedding model, dimensions and chunking, its own HNSW cosine index (made by the
 * database when the collection is created), a status and the last error.
 */
@Command(
        name = "collections",
        mixinStandardHelpOptions = true,
        description = "Create, list, update or delete collections (model, dimensions, chunking).",
        subcommands = {
            CollectionsCommand.Create.class,
            CollectionsCommand.List.class,
            CollectionsCommand.Update.class,
            CollectionsCommand.Delete.class
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
        try (Connection c = Database.connect(db.url(), db.schema(), "collections", Duration.ofSeconds(10))) {
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
                description = "onnx: one of all-MiniLM-L6-v2 (default), all-MiniLM-L6-v2-q, bge-small-en-v1.5,"
                        + " bge-small-en-v1.5-q; openai/pgml: the service's model name.")
        String model;

        @Option(names = "--dimensions", description = "Vector length (onnx: taken from the model).")
        Integer dimensions;

        @Option(
                names = "--chunk-size",
                defaultValue = "256",
                description = "Tokens per chunk (default ${DEFAULT-VALUE}).")
        int chunkSize;

        @Option(
                names = "--chunk-overlap",
                defaultValue = "32",
                description = "Tokens of overlap (default ${DEFAULT-VALUE}).")
        int chunkOverlap;

        @Option(
                names = "--template",
                defaultValue = "{title}\n{chunk}",
                description = "What is embedded for each chunk; {title} and {chunk} are replaced.")
        String template;

        @Override
        public Integer call() {
            Env env = Env.load();
            String resolvedModel = model;
            Integer dims = dimensions;
            switch (provider) {
                case "onnx" -> {
                    resolvedModel = model == null ? ModelCatalog.DEFAULT_MODEL : model;
                    if (!ModelCatalog.names().contains(resolvedModel)) {
                        env.problem("--model '" + resolvedModel + "' is not a bundled model: " + ModelCatalog.names());
                    } else {
                        EmbeddingModelSpec spec = ModelCatalog.get(resolvedModel);
                        if (dims != null && dims != spec.dimensions()) {
                            env.problem("--dimensions " + dims + " does not match " + resolvedModel + " ("
                                    + spec.dimensions() + ")");
                        }
                        dims = spec.dimensions();
                    }
                }
                case "openai", "pgml" -> {
                    if (model == null) {
                        env.problem("--model is required for provider " + provider);
                    }
                    if (dims == null) {
                        env.problem("--dimensions is required for provider " + provider);
                    }
                }
                default -> env.problem("--provider must be onnx, openai or pgml, not '" + provider + "'");
            }
            if (!template.contains("{chunk}")) {
                env.problem("--template must contain {chunk}");
            }
            if (chunkOverlap < 0 || chunkOverlap >= chunkSize) {
                env.problem("--chunk-overlap must be at least 0 and below --chunk-size");
            }
            String finalModel = resolvedModel;
            Integer finalDims = dims;
            return withConnection("collections create", env, c -> {
                try (PreparedStatement s = c.prepareStatement("insert into collections (name, embedding_provider,"
                        + " embedding_model, dimensions, chunk_size_tokens, chunk_overlap_tokens, chunk_template)"
                        + " values (?, ?, ?, ?, ?, ?, ?)")) {
                    s.setString(1, name);
                    s.setString(2, provider);
                    s.setString(3, finalModel);
                    s.setInt(4, finalDims);
                    s.setInt(5, chunkSize);
                    s.setInt(6, chunkOverlap);
                    s.setString(7, template.replace("\\n", "\n"));
                    s.executeUpdate();
                } catch (SQLException e) {
                    if ("23505".equals(e.getSQLState())) {
                        System.err.println("ragline collections create: a collection named '" + name + "' exists");
                        return 1;
                    }
                    if ("23514".equals(e.getSQLState())) {
                        System.err.println("ragline collections create: '" + name
                                + "' is not a valid name (lower-case letters, digits, '-', '_'; at most 63)");
                        return 2;
                    }
                    throw e;
                }
                System.out.println("created collection " + name + " (" + provider + " " + finalModel + ", "
                        + finalDims + " dimensions, chunks of " + chunkSize + " tokens, overlap " + chunkOverlap
                        + ")");
                return 0;
            });
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List collections with document counts.")
    static final class List implements Callable<Integer> {
        @Override
        public Integer call() {
            return withConnection("collections list", Env.load(), c -> {
                System.out.printf(
                        Locale.ROOT,
                        "%-20s %-8s %-22s %5s %6s %7s %-7s %s%n",
                        "NAME",
                        "PROVIDER",
                        "MODEL",
                        "DIMS",
                        "CHUNK",
                        "OVERLAP",
                        "STATUS",
                        "DOCUMENTS");
                for (Collection col : CollectionCatalog.all(c)) {
                    System.out.printf(
                            Locale.ROOT,
                            "%-20s %-8s %-22s %5d %6d %7d %-7s %s%n",
                            col.name(),
                            col.provider(),
                            col.model(),
                            col.dimensions(),
                            col.chunkSizeTokens(),
                            col.chunkOverlapTokens(),
                            col.status(),
                            counts(c, col.id()));
                    String error = lastError(c, col.id());
                    if (error != null) {
                        System.out.println("    last error: " + error);
                    }
                }
                return 0;
            });
        }

        private static String counts(Connection c, int collection) throws SQLException {
            StringBuilder sb = new StringBuilder();
            try (PreparedStatement s = c.prepareStatement("select status, count(*) from documents where"
                    + " collection_id = ? group by status order by status")) {
                s.setInt(1, collection);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        sb.append(sb.length() == 0 ? "" : ", ")
                                .append(rs.getString(1))
                                .append(' ')
                                .append(rs.getLong(2));
                    }
                }
            }
            return sb.length() == 0 ? "none" : sb.toString();
        }

        private static String lastError(Connection c, int collection) throws SQLException {
            try (PreparedStatement s = c.prepareStatement("select coalesce(c.last_error, (select d.error from"
                    + " documents d where d.collection_id = c.id and d.status = ? order by d.updated_at"
                    + " desc limit 1)) from collections c where c.id = ?")) {
                s.setString(1, DocumentStatus.FAILED.stored());
                s.setInt(2, collection);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        }
    }

    @Command(
            name = "update",
            mixinStandardHelpOptions = true,
            description =
                    "Change chunking or template (new documents use it; re-publish to re-chunk old ones), or pause and"
                            + " resume embedding.")
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

        @Override
        public Integer call() {
            Env env = Env.load();
            if (template != null && !template.contains("{chunk}")) {
                env.problem("--template must contain {chunk}");
            }
            if (status != null && !status.equals("active") && !status.equals("paused")) {
                env.problem("--status must be active or paused, not '" + status + "'");
            }
            return withConnection("collections update", env, c -> {
                c.setAutoCommit(false);
                String before;
                try (PreparedStatement s =
                        c.prepareStatement("select status from collections where name = ? for update")) {
                    s.setString(1, name);
                    try (ResultSet rs = s.executeQuery()) {
                        if (!rs.next()) {
                            System.err.println("ragline collections update: no collection named '" + name + "'");
                            return 1;
                        }
                        before = rs.getString(1);
                    }
                }
                try (PreparedStatement s = c.prepareStatement("update collections set chunk_size_tokens ="
                        + " coalesce(?, chunk_size_tokens), chunk_overlap_tokens = coalesce(?, chunk_overlap_tokens),"
                        + " chunk_template = coalesce(?, chunk_template), status = coalesce(?, status),"
                        + " updated_at = now() where name = ?")) {
                    s.setObject(1, chunkSize);
                    s.setObject(2, chunkOverlap);
                    s.setString(3, template == null ? null : template.replace("\\n", "\n"));
                    s.setString(4, status);
                    s.setString(5, name);
                    s.executeUpdate();
                } catch (SQLException e) {
                    c.rollback();
                    if ("23514".equals(e.getSQLState())) {
                        System.err.println("ragline collections update: the overlap must stay below the chunk size");
                        return 2;
                    }
                    throw e;
                }
                int requested = "active".equals(status) && !"active".equals(before) ? requestWaiting(c) : 0;
                c.commit();
                System.out.println("updated collection " + name
                        + (status == null ? "" : " (status " + status + ")")
                        + (requested == 0 ? "" : ": asked again for the embeddings of " + requested + " document(s)"));
                return 0;
            });
        }

        /**
         * The embedding-worker skipped the requests of a paused collection, leaving its documents
         * {@code chunked}: write a new request for each, in the transaction that resumes it.
         */
        private int requestWaiting(Connection c) throws SQLException {
            return Outbox.requestEmbeddings(c, name);
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
                try (PreparedStatement s = c.prepareStatement("delete from collections where name = ?")) {
                    s.setString(1, name);
                    if (s.executeUpdate() == 0) {
                        System.err.println("ragline collections delete: no collection named '" + name + "'");
                        return 1;
                    }
                }
                try (PreparedStatement s = c.prepareStatement("select format('drop index if exists %I.%I',"
                                + " schemaname, indexname) from pg_indexes where tablename = 'chunk_embeddings' and indexname like"
                                + " 'chunk_embeddings_c%_idx' and schemaname = current_schema() and not exists (select 1 from"
                                + " collections where 'chunk_embeddings_c' || id || '_idx' = indexname)");
                        ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        try (var drop = c.createStatement()) {
                            drop.execute(rs.getString(1));
                        }
                    }
                }
                System.out.println("deleted collection " + name);
                return 0;
            });
        }
    }
}
