package io.ragline.console.collections;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.ApiRequest;
import io.ragline.console.api.ApiResponse;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Json;
import io.ragline.console.api.Page;
import io.ragline.console.api.Schemas;
import io.ragline.contracts.status.CollectionStatus;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.collections.CollectionSettings;
import io.ragline.core.collections.CollectionSummary;
import io.ragline.core.collections.IndexBuild;
import io.ragline.core.collections.Reembedding;
import io.ragline.core.collections.SearchIndex;
import io.ragline.core.http.ApiTokens.Role;
import io.ragline.embeddings.ModelCatalog;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code /api/v1/collections}: the pipeline registry. Every change goes through core's {@link
 * CollectionRegistry} and {@link Reembedding}, the same code as {@code ragline collections}, in one
 * transaction per request. The list is ordered by name (the cursor is the last name shown).
 * Creating and deleting a collection is DDL (its HNSW index): the console's database login must be
 * the schema owner's for them, or they answer 403.
 */
public final class CollectionsApi {
    /** The search index's fields: chosen at create; an update that gives one is refused naming it. */
    static final List<String> INDEX_FIELDS = List.of(
            "distance", "index", "m", "ef_construction", "ef_search", "lists", "probes", "halfvec", "text_config");

    static final Set<String> CREATE_FIELDS = fields(
            INDEX_FIELDS,
            "name",
            "embedding_provider",
            "embedding_model",
            "dimensions",
            "chunk_size_tokens",
            "chunk_overlap_tokens",
            "chunk_template",
            "index_after_load");
    static final Set<String> UPDATE_FIELDS =
            fields(INDEX_FIELDS, "chunk_size_tokens", "chunk_overlap_tokens", "chunk_template");

    private final CollectionRegistry registry = new CollectionRegistry(ModelCatalog.bundled());

    public void register(ApiRoutes routes) {
        routes.get("/collections", Role.VIEWER, "List collections with document counts and last error", this::list)
                .describe(r -> r.paged()
                        .description("Ordered by name.")
                        .answers(200, "a page of collections", Schemas.page(collectionSchema())));
        routes.post("/collections", Role.ADMIN, "Create a collection", this::create)
                .describe(r -> r.body(createSchema())
                        .description("The vector index (distance, index and its options, halfvec, text_config) is"
                                + " fixed once created. An HNSW index is built at once, or with index_after_load by a"
                                + " reindex once the first load is done (a fourth to a fifth of the CPU of inserting each"
                                + " vector into it); an IVFFlat index by a reindex once the collection has vectors."
                                + " Searches scan exactly until then.")
                        .answers(201, "the collection created", collectionSchema())
                        .fails(409, "a collection of that name exists")
                        .fails(422, "a field breaks a rule (errors names each)"));
        routes.get("/collections/{name}", Role.VIEWER, "One collection with its counts", this::get)
                .describe(r ->
                        r.answers(200, "the collection", collectionSchema()).fails(404, "no collection of that name"));
        routes.patch("/collections/{name}", Role.ADMIN, "Change a collection's chunking or template", this::update)
                .describe(r -> r.description("Documents published afterwards are chunked with it; a new template"
                                + " takes a re-embed to reach the stored vectors. The vector index's fields are"
                                + " refused (422 naming each): they change only through a migration.")
                        .body(updateSchema())
                        .answers(200, "the collection changed", collectionSchema())
                        .fails(404, "no collection of that name")
                        .fails(422, "a field breaks a rule (errors names each)"));
        routes.post(
                        "/collections/{name}/reindex",
                        Role.ADMIN,
                        "Build the collection's vector index again",
                        this::reindex)
                .longStatements()
                .describe(r -> r.description("From the vectors it has now: an IVFFlat index once the collection is"
                                + " loaded (its lists are trained on the rows present) and after the data has drifted;"
                                + " an HNSW one whole, or for the first time after a load (index_after_load). While a"
                                + " running migration's generation lacks its index (IVFFlat once complete, or asked for"
                                + " after the load) that index is the one built. Vector writes to every collection wait"
                                + " while it builds.")
                        .answers(
                                200,
                                "the collection; index_built (the serving generation's) is false while an IVFFlat one has"
                                        + " no vector, and after a reindex that built a migration's waiting index",
                                collectionSchema())
                        .fails(404, "no collection of that name"));
        routes.delete("/collections/{name}", Role.ADMIN, "Delete a collection, its documents and vectors", this::delete)
                .longStatements()
                .describe(r -> r.answers(204, "deleted", null).fails(404, "no collection of that name"));
        routes.post(
                        "/collections/{name}/pause",
                        Role.OPERATOR,
                        "Pause embedding",
                        req -> status(req, CollectionStatus.PAUSED))
                .describe(r -> r.description("The ingest-worker still stores and chunks its documents; the"
                                + " embedding-worker skips their requests, so they stay chunked. Pausing a paused"
                                + " collection changes nothing.")
                        .answers(200, "the collection, paused", collectionSchema())
                        .fails(404, "no collection of that name")
                        .fails(409, "its status may not change (a collection being deleted)"));
        routes.post(
                        "/collections/{name}/resume",
                        Role.OPERATOR,
                        "Resume embedding",
                        req -> status(req, CollectionStatus.ACTIVE))
                .longStatements()
                .describe(r -> r.description("Sets it active and, in the same transaction, asks again for the"
                                + " embeddings of every chunked document.")
                        .answers(200, "the collection, active", collectionSchema())
                        .fails(404, "no collection of that name")
                        .fails(409, "its status may not change (a collection being deleted)"));
        routes.post(
                        "/collections/{name}/reembed",
                        Role.OPERATOR,
                        "Compute every document's vectors again",
                        this::reembed)
                .longStatements()
                .describe(r -> r.description("The embedded and failed documents lose their vectors and become"
                                + " chunked; every chunked document is asked for again. They are missing from search"
                                + " results until embedded.")
                        .answers(
                                202,
                                "the documents now waiting for their vectors",
                                Schemas.required(Schemas.object("documents", Schemas.integer()), "documents"))
                        .fails(404, "no collection of that name"));
    }

    private ApiResponse list(ApiRequest req) throws Exception {
        Page.Request page = req.page();
        List<ObjectNode> rows = Registry.inTransaction(
                req.database(),
                c -> registry.list(c, page.after().orElse(null), page.fetchSize()).stream()
                        .map(CollectionsApi::json)
                        .toList());
        return ApiResponse.ok(Page.of(page, rows, row -> row.get("name").asText()));
    }

    private ApiResponse create(ApiRequest req) throws Exception {
        ObjectNode body = req.object();
        Map<String, String> errors = new LinkedHashMap<>();
        Registry.onlyFields(body, CREATE_FIELDS, errors);
        String name = Registry.text(body, "name", errors);
        if (name == null && !errors.containsKey("name")) {
            errors.put("name", "is required");
        }
        CollectionSettings asked = new CollectionSettings(
                Registry.text(body, "embedding_provider", errors),
                Registry.text(body, "embedding_model", errors),
                Registry.integer(body, "dimensions", errors),
                Registry.integer(body, "chunk_size_tokens", errors),
                Registry.integer(body, "chunk_overlap_tokens", errors),
                Registry.text(body, "chunk_template", errors),
                searchIndex(body, errors));
        IndexBuild build = IndexBuild.of(Boolean.TRUE.equals(Registry.bool(body, "index_after_load", errors)));
        Registry.refuseIfAny(errors);
        ObjectNode made = Registry.inTransaction(req.database(), c -> {
            registry.create(c, name, asked, build);
            return json(registry.get(c, name));
        });
        return ApiResponse.created(made).withOutcome("created collection " + name);
    }

    private ApiResponse get(ApiRequest req) throws Exception {
        String name = req.path("name");
        return ApiResponse.ok(Registry.inTransaction(req.database(), c -> json(registry.get(c, name))));
    }

    private ApiResponse update(ApiRequest req) throws Exception {
        String name = req.path("name");
        ObjectNode body = req.object();
        Map<String, String> errors = new LinkedHashMap<>();
        Registry.onlyFields(body, UPDATE_FIELDS, errors);
        CollectionSettings chunking = new CollectionSettings(
                null,
                null,
                null,
                Registry.integer(body, "chunk_size_tokens", errors),
                Registry.integer(body, "chunk_overlap_tokens", errors),
                Registry.text(body, "chunk_template", errors),
                searchIndex(body, errors));
        Registry.refuseIfAny(errors);
        return ApiResponse.ok(Registry.inTransaction(req.database(), c -> {
            registry.update(c, name, chunking);
            return json(registry.get(c, name));
        }));
    }

    private ApiResponse reindex(ApiRequest req) throws Exception {
        String name = req.path("name");
        ObjectNode now = Registry.inTransaction(req.database(), c -> {
            registry.reindex(c, name);
            return json(registry.get(c, name));
        });
        return ApiResponse.ok(now).withOutcome("reindexed collection " + name);
    }

    private static SearchIndex searchIndex(ObjectNode body, Map<String, String> errors) {
        return new SearchIndex(
                Registry.text(body, "distance", errors),
                Registry.text(body, "index", errors),
                Registry.integer(body, "m", errors),
                Registry.integer(body, "ef_construction", errors),
                Registry.integer(body, "ef_search", errors),
                Registry.integer(body, "lists", errors),
                Registry.integer(body, "probes", errors),
                Registry.bool(body, "halfvec", errors),
                Registry.text(body, "text_config", errors));
    }

    private static Set<String> fields(List<String> more, String... names) {
        Set<String> all = new java.util.LinkedHashSet<>(List.of(names));
        all.addAll(more);
        return Set.copyOf(all);
    }

    private ApiResponse delete(ApiRequest req) throws Exception {
        String name = req.path("name");
        Registry.inTransaction(req.database(), c -> {
            registry.delete(c, name);
            return null;
        });
        return ApiResponse.noContent().withOutcome("deleted collection " + name);
    }

    private ApiResponse status(ApiRequest req, CollectionStatus target) throws Exception {
        String name = req.path("name");
        int[] requested = new int[1];
        ObjectNode now = Registry.inTransaction(req.database(), c -> {
            requested[0] = registry.setStatus(c, name, target).requested();
            return json(registry.get(c, name));
        });
        return ApiResponse.ok(now)
                .withOutcome(name + " " + target
                        + (requested[0] == 0 ? "" : ", " + requested[0] + " document(s) asked for"));
    }

    private ApiResponse reembed(ApiRequest req) throws Exception {
        String name = req.path("name");
        int requested = Registry.inTransaction(req.database(), c -> Reembedding.collection(c, name));
        return ApiResponse.accepted(Json.object().put("documents", requested))
                .withOutcome(requested + " document(s) of " + name + " asked for");
    }

    /** A collection as the API answers it. */
    static ObjectNode json(CollectionSummary s) {
        Collection c = s.collection();
        ObjectNode o = Json.object();
        o.put("name", c.name());
        o.put("embedding_provider", c.provider());
        o.put("embedding_model", c.model());
        o.put("dimensions", c.dimensions());
        o.put("generation", c.generation());
        o.set("migration", s.migration() == null ? null : MigrationsApi.json(s.migration()));
        o.put("chunk_size_tokens", c.chunkSizeTokens());
        o.put("chunk_overlap_tokens", c.chunkOverlapTokens());
        o.put("chunk_template", c.chunkTemplate());
        SearchIndex index = c.index();
        o.put("distance", index.distance());
        o.put("index", index.type());
        o.put("m", index.m());
        o.put("ef_construction", index.efConstruction());
        o.put("ef_search", index.efSearch());
        o.put("lists", index.lists());
        o.put("probes", index.probes());
        o.put("halfvec", index.halfvec());
        o.put("text_config", index.textConfig());
        o.put("index_built", s.indexBuilt());
        o.put("status", c.status());
        o.put("last_error", s.lastError());
        ObjectNode counts = o.putObject("counts");
        for (DocumentStatus status : DocumentStatus.values()) {
            counts.put(status.stored(), s.counts().getOrDefault(status, 0L));
        }
        o.put("created_at", s.createdAt() == null ? null : s.createdAt().toString());
        o.put("updated_at", s.updatedAt() == null ? null : s.updatedAt().toString());
        return o;
    }

    static ObjectNode collectionSchema() {
        ObjectNode counts = Schemas.object();
        for (DocumentStatus status : DocumentStatus.values()) {
            ((ObjectNode) counts.get("properties")).set(status.stored(), Schemas.integer());
        }
        return Schemas.required(
                Schemas.object(
                        "name", Schemas.string(),
                        "embedding_provider", Schemas.enumeration(CollectionSettings.PROVIDERS.toArray(String[]::new)),
                        "embedding_model", Schemas.string(),
                        "dimensions", Schemas.integer(),
                        "generation", Schemas.integer(),
                        "migration", Schemas.nullable(MigrationsApi.migrationSchema()),
                        "chunk_size_tokens", Schemas.integer(),
                        "chunk_overlap_tokens", Schemas.integer(),
                        "chunk_template", Schemas.string(),
                        "distance", Schemas.enumeration(SearchIndex.DISTANCES.toArray(String[]::new)),
                        "index", Schemas.enumeration(SearchIndex.TYPES.toArray(String[]::new)),
                        "m", Schemas.nullable(Schemas.integer()),
                        "ef_construction", Schemas.nullable(Schemas.integer()),
                        "ef_search", Schemas.nullable(Schemas.integer()),
                        "lists", Schemas.nullable(Schemas.integer()),
                        "probes", Schemas.nullable(Schemas.integer()),
                        "halfvec", Schemas.bool(),
                        "text_config", Schemas.string(),
                        "index_built", Schemas.bool(),
                        "status", Schemas.enumeration(statuses()),
                        "last_error", Schemas.nullable(Schemas.string()),
                        "counts", counts,
                        "created_at", Schemas.dateTime(),
                        "updated_at", Schemas.dateTime()),
                "name",
                "embedding_provider",
                "embedding_model",
                "dimensions",
                "chunk_size_tokens",
                "chunk_overlap_tokens",
                "chunk_template",
                "distance",
                "index",
                "halfvec",
                "text_config",
                "index_built",
                "status",
                "last_error",
                "counts",
                "created_at",
                "updated_at");
    }

    private static String[] statuses() {
        return java.util.Arrays.stream(CollectionStatus.values())
                .map(CollectionStatus::stored)
                .toArray(String[]::new);
    }

    private static ObjectNode createSchema() {
        ObjectNode s = Schemas.object(
                "name", Schemas.string("lower-case letters, digits, '-' and '_'; at most 63"),
                "embedding_provider", Schemas.enumeration(CollectionSettings.PROVIDERS.toArray(String[]::new)),
                "embedding_model",
                        Schemas.string("onnx: a bundled model (default " + ModelCatalog.DEFAULT_MODEL
                                + "); openai, pgml: the service's model (required)"),
                "dimensions", Schemas.integer(1, CollectionSettings.MAX_DIMENSIONS),
                "chunk_size_tokens",
                        Schemas.integer()
                                .put("minimum", 1)
                                .put("default", CollectionSettings.DEFAULT_CHUNK_SIZE_TOKENS),
                "chunk_overlap_tokens",
                        Schemas.integer()
                                .put("minimum", 0)
                                .put("default", CollectionSettings.DEFAULT_CHUNK_OVERLAP_TOKENS),
                "chunk_template", Schemas.string("what is embedded for each chunk; must contain {chunk}"));
        ObjectNode properties = (ObjectNode) s.get("properties");
        properties.set(
                "distance",
                Schemas.enumeration(SearchIndex.DISTANCES.toArray(String[]::new))
                        .put("default", SearchIndex.DEFAULT_DISTANCE)
                        .put("description", "the vector metric; the score is higher-is-better for each"));
        properties.set(
                "index",
                Schemas.enumeration(SearchIndex.TYPES.toArray(String[]::new)).put("default", SearchIndex.DEFAULT_TYPE));
        properties.set(
                "m", option(SearchIndex.MIN_M, SearchIndex.MAX_M, "hnsw only; default " + SearchIndex.DEFAULT_M));
        properties.set(
                "ef_construction",
                option(
                        SearchIndex.MIN_EF_CONSTRUCTION,
                        SearchIndex.MAX_EF_CONSTRUCTION,
                        "hnsw only; at least 2 x m; default " + SearchIndex.DEFAULT_EF_CONSTRUCTION));
        properties.set(
                "ef_search",
                option(
                        1,
                        SearchIndex.MAX_EF_SEARCH,
                        "hnsw only; default " + SearchIndex.DEFAULT_EF_SEARCH + ", raised to the results asked for"));
        properties.set(
                "lists", option(1, SearchIndex.MAX_LISTS, "ivfflat only; default chosen from the rows at build"));
        properties.set("probes", option(1, SearchIndex.MAX_LISTS, "ivfflat only; at most lists; default sqrt(lists)"));
        properties.set(
                "halfvec",
                Schemas.bool().put("default", false).put("description", "half-precision vectors in the index"));
        properties.set(
                "text_config",
                Schemas.string("text search configuration of the full-text index")
                        .put("default", SearchIndex.DEFAULT_TEXT_CONFIG));
        properties.set(
                "index_after_load",
                Schemas.bool()
                        .put("default", false)
                        .put(
                                "description",
                                "hnsw: leave the index out until a reindex builds it over the loaded vectors"));
        s.put("additionalProperties", false);
        return Schemas.required(s, "name");
    }

    private static ObjectNode option(int min, int max, String description) {
        return Schemas.integer(min, max).put("description", description);
    }

    private static ObjectNode updateSchema() {
        ObjectNode s = Schemas.object(
                "chunk_size_tokens", Schemas.integer().put("minimum", 1),
                "chunk_overlap_tokens", Schemas.integer().put("minimum", 0),
                "chunk_template", Schemas.string("must contain {chunk}"));
        s.put("additionalProperties", false);
        return s;
    }
}
