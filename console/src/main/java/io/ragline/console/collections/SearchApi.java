package io.ragline.console.collections;

import io.ragline.console.api.ApiProblem;
import io.ragline.console.api.ApiRequest;
import io.ragline.console.api.ApiResponse;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Schemas;
import io.ragline.core.http.ApiTokens.Role;
import io.ragline.embedding.ProviderFailure;
import io.ragline.embedding.search.SearchJson;
import io.ragline.embedding.search.Searcher;
import io.ragline.embeddings.EmbeddingException;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * {@code POST /api/v1/search}: the embedding-worker's {@code POST /search} in the console, the same
 * code: the request and answer of {@link SearchJson}, the search of {@link Searcher} (the query
 * embedded with the collection's model in this process, then {@code search_documents}). A field of
 * the wrong type or out of range is a 422 naming it; an unknown collection a 404; the embedding
 * service unavailable a 503, refusing the query a 502.
 */
public final class SearchApi {
    private final Searcher searcher;

    public SearchApi(Searcher searcher) {
        this.searcher = searcher;
    }

    public void register(ApiRoutes routes) {
        routes.post("/search", Role.VIEWER, "Search a collection by meaning", this::search)
                .describe(r -> r.description("The embedding-worker's POST /search: the best k chunks of the"
                                + " collection for the query, filtered by document metadata (@>).")
                        .body(Schemas.required(
                                Schemas.object(
                                        "query", Schemas.string("what to look for, in your own words"),
                                        "collection", Schemas.string().put("default", SearchJson.DEFAULT_COLLECTION),
                                        "k",
                                                Schemas.integer(1, SearchJson.MAX_K)
                                                        .put("default", SearchJson.DEFAULT_K),
                                        "filter",
                                                Schemas.anyObject()
                                                        .put(
                                                                "description",
                                                                "matched against document metadata with @>")),
                                "query"))
                        .answers(
                                200,
                                "the best chunks, best first",
                                Schemas.required(
                                        Schemas.object(
                                                "results",
                                                Schemas.array(Schemas.required(
                                                        Schemas.object(
                                                                "document_id", Schemas.string(),
                                                                "title", Schemas.nullable(Schemas.string()),
                                                                "score", Schemas.number(),
                                                                "content", Schemas.string(),
                                                                "chunk_id", Schemas.integer(),
                                                                "metadata", Schemas.anyObject()),
                                                        "document_id",
                                                        "title",
                                                        "score",
                                                        "content",
                                                        "chunk_id",
                                                        "metadata"))),
                                        "results"))
                        .fails(404, "no collection of that name")
                        .fails(422, "a field of the wrong type or out of range (errors names it)"));
    }

    private ApiResponse search(ApiRequest req) throws Exception {
        SearchJson.Request request;
        try {
            request = SearchJson.request(req.body());
        } catch (SearchJson.InvalidRequest e) {
            if (e.field() == null) {
                throw ApiProblem.badRequest(e.getMessage());
            }
            throw ApiProblem.unprocessable(e.getMessage(), Map.of(e.field(), e.getMessage()));
        }
        List<Searcher.Hit> hits;
        try {
            hits = searcher.search(request.collection(), request.query(), request.k(), request.filterJson());
        } catch (EmbeddingException e) {
            throw embeddingFailed(e);
        }
        if (hits == null) {
            throw ApiProblem.notFound("no collection named '" + request.collection() + "'");
        }
        return ApiResponse.ok(SearchJson.results(hits));
    }

    /** As the embedding-worker's {@code /search} answers it: 503 unavailable, 502 refused, else 500. */
    private static RuntimeException embeddingFailed(EmbeddingException e) {
        if (ProviderFailure.of(e) == ProviderFailure.UNAVAILABLE) {
            return ApiProblem.unavailable("the embedding service is unavailable; retry later");
        }
        OptionalInt status = ProviderFailure.httpStatus(e);
        if (status.isPresent()) {
            return new ApiProblem(
                    502,
                    "bad-gateway",
                    "Bad gateway",
                    "the embedding endpoint answered " + status.getAsInt() + " to the query",
                    Map.of());
        }
        return e;
    }
}
