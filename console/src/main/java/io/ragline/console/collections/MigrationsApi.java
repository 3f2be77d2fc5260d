package io.ragline.console.collections;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.ApiProblem;
import io.ragline.console.api.ApiRequest;
import io.ragline.console.api.ApiResponse;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Json;
import io.ragline.console.api.Quote;
import io.ragline.console.api.Schemas;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.collections.CollectionMigrations;
import io.ragline.core.collections.IndexBuild;
import io.ragline.core.http.ApiTokens.Role;
import io.ragline.embeddings.ModelCatalog;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code /api/v1/collections/{name}/migrate|migration|rollback|prune}: moving a collection to
 * another embedding model without downtime, through core's {@link CollectionMigrations} (the same
 * code as {@code ragline collections migrate|rollback|prune}), one transaction per request.
 * Refusals: 404 no collection, 409 a migration running, nothing kept or a kept generation lacking vectors, 422 a bad model (naming
 * the field). Starting, stopping and pruning a migration is DDL (a generation's index): the
 * console's login must be the schema owner's, or they answer 403.
 */
final class MigrationsApi {
    static final Set<String> MIGRATE_FIELDS = Set.of(
            "embedding_provider",
            "embedding_model",
            "dimensions",
            "chunk_size_tokens",
            "chunk_overlap_tokens",
            "index_after_load");

    private final CollectionMigrations migrations = new CollectionMigrations(ModelCatalog.bundled());

    void register(ApiRoutes routes) {
        routes.post(
                        "/collections/{name}/migrate",
                        Role.ADMIN,
                        "Start moving a collection to another embedding model",
                        this::migrate)
                .describe(r -> r.body(Schemas.object(
                                "embedding_provider", Schemas.string(),
                                "embedding_model", Schemas.string(),
                                "dimensions", Schemas.integer(),
                                "chunk_size_tokens", Schemas.integer(),
                                "chunk_overlap_tokens", Schemas.integer(),
                                "index_after_load",
                                        Schemas.bool()
                                                .put("default", false)
                                                .put(
                                                        "description",
                                                        "leave the new generation's index out until a reindex builds"
                                                                + " it once the backfill is complete; the switch waits"
                                                                + " for it")))
                        .description("Builds the new model's or chunking's vectors in the background through the"
                                + " pipeline while searches keep using the current ones; the embedding-worker"
                                + " switches when every searchable document has them. A new chunk size cuts every"
                                + " document again from its kept text (409 while a document stored before texts were"
                                + " kept lacks one: publish it again first).")
                        .answers(202, "the migration started", progressSchema())
                        .fails(404, "no collection of that name")
                        .fails(409, "a migration of it is running, or documents without kept text")
                        .fails(
                                422,
                                "an unknown model, nothing that differs from what it serves with, or a bad"
                                        + " chunking"));
        routes.get("/collections/{name}/migration", Role.VIEWER, "A collection's migration progress", this::progress)
                .describe(r -> r.answers(200, "its progress; running is false when none runs", progressSchema())
                        .fails(404, "no collection of that name"));
        routes.post(
                        "/collections/{name}/rollback",
                        Role.ADMIN,
                        "Stop a running migration, or serve the previous model again",
                        this::rollback)
                .longStatements()
                .describe(r -> r.answers(
                                200,
                                "what it did",
                                Schemas.object(
                                        "stopped_generation", Schemas.integer(),
                                        "generation", Schemas.integer(),
                                        "embedding_model", Schemas.string()))
                        .fails(404, "no collection of that name")
                        .fails(
                                409,
                                "nothing to roll back to, or the kept generation lacks vectors of searchable chunks"));
        routes.post("/collections/{name}/prune", Role.ADMIN, "Delete the previous model's kept vectors", this::prune)
                .longStatements()
                .describe(r -> r.query(
                                "force",
                                "true: prune even a generation a deployed classifier was trained on (it then"
                                        + " predicts nothing until the project is trained again)",
                                Schemas.bool())
                        .answers(200, "the vectors deleted", Schemas.object("vectors", Schemas.integer()))
                        .fails(404, "no collection of that name")
                        .fails(409, "no kept generation, or a deployed model was trained on one (without force)"));
    }

    private ApiResponse migrate(ApiRequest req) throws Exception {
        String name = req.path("name");
        ObjectNode body = req.object();
        Map<String, String> errors = new LinkedHashMap<>();
        Registry.onlyFields(body, MIGRATE_FIELDS, errors);
        String provider = Registry.text(body, "embedding_provider", errors);
        String model = Registry.text(body, "embedding_model", errors);
        Integer dimensions = Registry.integer(body, "dimensions", errors);
        Integer chunkSize = Registry.integer(body, "chunk_size_tokens", errors);
        Integer chunkOverlap = Registry.integer(body, "chunk_overlap_tokens", errors);
        IndexBuild build = IndexBuild.of(Boolean.TRUE.equals(Registry.bool(body, "index_after_load", errors)));
        if (model == null && chunkSize == null && chunkOverlap == null && !errors.containsKey("embedding_model")) {
            errors.put("embedding_model", "is required (or chunk_size_tokens)");
        }
        Registry.refuseIfAny(errors);
        ObjectNode started = Registry.inTransaction(req.database(), c -> {
            CollectionMigrations.Started s =
                    migrations.migrate(c, name, provider, model, dimensions, chunkSize, chunkOverlap, build);
            return progress(migrations.progress(c, name), s.collection()).put("documents", s.requested());
        });
        return ApiResponse.accepted(started)
                .withOutcome("migrating collection " + name + " to "
                        + started.path("embedding_model").asText());
    }

    private ApiResponse progress(ApiRequest req) throws Exception {
        String name = req.path("name");
        return ApiResponse.ok(Registry.inTransaction(
                req.database(), c -> progress(migrations.progress(c, name), CollectionCatalog.stored(c, name))));
    }

    private ApiResponse rollback(ApiRequest req) throws Exception {
        String name = req.path("name");
        ObjectNode done = Registry.inTransaction(req.database(), c -> {
            CollectionMigrations.RolledBack back = migrations.rollback(c, name);
            ObjectNode o = Json.object();
            if (back.abandoned() != null) {
                o.put("stopped_generation", back.abandoned().number());
            }
            Collection now = CollectionCatalog.stored(c, name);
            o.put("generation", now.generation());
            o.put("embedding_model", now.model());
            return o;
        });
        return ApiResponse.ok(done).withOutcome("rolled back collection " + name);
    }

    private ApiResponse prune(ApiRequest req) throws Exception {
        String name = req.path("name");
        boolean force = req.query("force")
                .map(v -> {
                    if (!v.equals("true") && !v.equals("false")) {
                        throw ApiProblem.badRequest("force: must be true or false, was " + Quote.of(v));
                    }
                    return v.equals("true");
                })
                .orElse(false);
        long deleted = Registry.inTransaction(req.database(), c -> migrations.prune(c, name, force));
        return ApiResponse.ok(Json.object().put("vectors", deleted))
                .withOutcome("pruned collection " + name + ": " + deleted + " vector(s)");
    }

    /** The running migration's progress beside the serving generation. */
    private static ObjectNode progress(Optional<CollectionMigrations.Progress> p, Collection serving) {
        ObjectNode o = Json.object();
        o.put("running", p.isPresent());
        o.put("serving_generation", serving.generation());
        o.put("serving_model", serving.model());
        p.ifPresent(g -> o.setAll(json(g)));
        p.filter(g -> g.refused() > 0).ifPresent(g -> o.put("refused_advice", g.refusalAdvice(serving.name())));
        p.filter(CollectionMigrations.Progress::waitsForIndex)
                .ifPresent(g -> o.put("advice", g.indexAdvice(serving.name())));
        return o;
    }

    /** A running migration as the API answers it, here and in a collection's {@code migration}. */
    static ObjectNode json(CollectionMigrations.Progress g) {
        return Json.object()
                .put("generation", g.generation())
                .put("embedding_model", g.model())
                .put("done", g.done())
                .put("needed", g.needed())
                .put("unit", g.unit())
                .put("waiting_for_index", g.waitsForIndex())
                .put("refused", g.refused());
    }

    /** {@link #json(CollectionMigrations.Progress)}'s schema. */
    static ObjectNode migrationSchema() {
        return Schemas.object(
                "generation", Schemas.integer(),
                "embedding_model", Schemas.string(),
                "done", Schemas.integer(),
                "needed", Schemas.integer(),
                "waiting_for_index", Schemas.bool(),
                "refused", Schemas.integer());
    }

    private static ObjectNode progressSchema() {
        return Schemas.required(
                Schemas.object(
                        "running", Schemas.bool(),
                        "serving_generation", Schemas.integer(),
                        "serving_model", Schemas.string(),
                        "generation", Schemas.integer(),
                        "embedding_model", Schemas.string(),
                        "done", Schemas.integer(),
                        "needed", Schemas.integer(),
                        "unit", Schemas.string(),
                        "waiting_for_index", Schemas.bool(),
                        "advice", Schemas.string(),
                        "refused", Schemas.integer(),
                        "refused_advice", Schemas.string(),
                        "documents", Schemas.integer()),
                "running",
                "serving_generation",
                "serving_model");
    }
}
