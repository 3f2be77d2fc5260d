package io.ragline.console.collections;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.ApiProblem;
import io.ragline.console.api.ApiRequest;
import io.ragline.console.api.ApiResponse;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Schemas;
import io.ragline.core.http.ApiTokens.Role;
import io.ragline.embedding.ProviderFailure;
import io.ragline.embedding.search.SearchJson;
import io.ragline.embedding.search.SearchMode;
import io.ragline.embedding.search.SearchRefusal;
import io.ragline.embedding.search.Searcher;
import io.ragline.embeddings.EmbeddingException;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * {@code POST /api/v1/search}: the embedding-worker's {@code POST /search} in the console, the same
 * code: the request and answer of {@link SearchJson}, the search of {@link Searcher} (the query
 * embedded with the collection's model in this process, then {@code search_documents}). A field of
 * the wrong type or out of range is a 422 naming it; a value the database refuses (a {@link
 * SearchRefusal}: a bad filter, SQLSTATE 22023 naming its path, or another data exception such as a
 * NUL in the filter) a 400 naming the field, as {@code /search} answers it, never the 422 of the
 * console's generic mapping of class 22; an unknown
 * collection a 404; the embedding service unavailable a 503, refusing the query a 502.
 */
public final class SearchApi {
    private final Searcher searcher;

    public SearchApi(Searcher searcher) {
        this.searcher = searcher;
    }

    public void register(ApiRoutes routes) {
        routes.post("/search", Role.VIEWER, "Search a collection", this::search)
                .describe(r -> r.description("The embedding-worker's POST /search: the best k hits of the"
                                + " collection for the query, by meaning (vector), words (text) or both fused by"
                                + " reciprocal rank fusion (hybrid), filtered by document metadata. A hit is a"
                                + " document (its best chunk) unless group_by_document is false. Scores, higher"
                                + " is better: vector, cosine similarity (-1 to 1); text, ts_rank_cd normalised"
                                + " to 0..1; hybrid, the sum of 1 / (60 + rank) over both rankings.")
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
                                                                "on document metadata: {\"key\": value} (containment),"
                                                                        + " {\"key\": {\"$eq|$ne|$gt|$gte|$lt|$lte|$in|$nin|$exists\":"
                                                                        + " argument}}, {\"$and\"|\"$or\": [filter, ...]},"
                                                                        + " {\"$not\": filter}; a bad one is a 400 naming its path"),
                                        "mode",
                                                Schemas.enumeration("vector", "text", "hybrid")
                                                        .put("default", SearchMode.DEFAULT.wire()),
                                        "min_score",
                                                Schemas.number()
                                                        .put("description", "hits scoring below it are left out"),
                                        "group_by_document",
                                                Schemas.bool()
                                                        .put("default", true)
                                                        .put("description", "one hit per document, its best chunk"),
                                        "context",
                                                Schemas.integer(0, SearchJson.MAX_CONTEXT)
                                                        .put("default", 0)
                                                        .put(
                                                                "description",
                                                                "neighbouring chunks to add on either side of each hit")),
                                "query"))
                        .answers(
                                200,
                                "the best hits, best first",
                                Schemas.required(Schemas.object("results", Schemas.array(hit())), "results"))
                        .fails(
                                400,
                                "a body that is not a JSON object, or a value the database refuses: a bad filter"
                                        + " (errors.filter names its path) or one it cannot store (a NUL)")
                        .fails(404, "no collection of that name")
                        .fails(422, "a field of the wrong type or out of range (errors names it)"));
    }

    /** One hit of the answer. */
    private static ObjectNode hit() {
        return Schemas.required(
                Schemas.object(
                        "document_id", Schemas.string(),
                        "title", Schemas.nullable(Schemas.string()),
                        "score", Schemas.number(),
                        "content", Schemas.string(),
                        "chunk_id", Schemas.integer(),
                        "metadata", Schemas.anyObject(),
                        "seq", Schemas.integer(),
                        "matching_chunks", Schemas.array(Schemas.integer()),
                        "context",
                                Schemas.array(Schemas.required(
                                        Schemas.object("seq", Schemas.integer(), "content", Schemas.string()),
                                        "seq",
                                        "content")),
                        "vector_score", Schemas.nullable(Schemas.number()),
                        "text_score", Schemas.nullable(Schemas.number())),
                "document_id",
                "title",
                "score",
                "content",
                "chunk_id",
                "metadata",
                "seq",
                "matching_chunks",
                "context",
                "vector_score",
                "text_score");
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
            hits = searcher.search(request);
        } catch (EmbeddingException e) {
            throw embeddingFailed(e);
        } catch (SQLException e) {
            SearchRefusal refusal = SearchRefusal.of(e).orElseThrow(() -> e);
            throw new ApiProblem(400, "bad-request", "Bad request", refusal.detail(), refusal.errors());
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
