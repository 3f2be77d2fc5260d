package io.ragline.embedding.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * The wire format of a search, one home for the embedding-worker's {@code POST /search} and the
 * console's {@code POST /api/v1/search}: the request {@code {"query","collection","k","filter",
 * "mode","min_score","group_by_document","context"}}, each field checked (a wrong type is refused,
 * never coerced), and the answer {@code {"results":[{"document_id","title","score","content",
 * "chunk_id","metadata","seq","matching_chunks","context","vector_score","text_score"}]}}. The
 * filter's language is checked by the database (one home: {@code search_filter_check}), which
 * refuses a bad one with SQLSTATE 22023.
 */
public final class SearchJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code k} when the request has none. */
    public static final int DEFAULT_K = 5;

    public static final int MAX_K = 100;

    /** {@code collection} when the request has none. */
    public static final String DEFAULT_COLLECTION = "default";

    private SearchJson() {}

    /** At most this many neighbouring chunks either side of a hit ({@code context}). */
    public static final int MAX_CONTEXT = 5;

    /**
     * A search: {@code filterJson} is null for none, {@code minScore} null for none; {@code
     * groupByDocument} answers one hit per document; {@code context} neighbouring chunks (0 to
     * {@value #MAX_CONTEXT}) either side of each hit.
     */
    public record Request(
            String query,
            String collection,
            int k,
            String filterJson,
            SearchMode mode,
            Double minScore,
            boolean groupByDocument,
            int context) {
        public Request {
            if (query == null || collection == null) {
                throw new IllegalArgumentException("a search needs a query and a collection");
            }
            if (k < 1 || k > MAX_K) {
                throw new IllegalArgumentException("k must be from 1 to " + MAX_K + ", not " + k);
            }
            if (context < 0 || context > MAX_CONTEXT) {
                throw new IllegalArgumentException("context must be from 0 to " + MAX_CONTEXT + ", not " + context);
            }
            if (minScore != null && !Double.isFinite(minScore)) {
                throw new IllegalArgumentException("min_score must be a finite number, not " + minScore);
            }
            mode = mode == null ? SearchMode.DEFAULT : mode;
        }

        /** The default search: the default mode, one hit per document, no context, no minimum score. */
        public Request(String query, String collection, int k, String filterJson) {
            this(query, collection, k, filterJson, SearchMode.DEFAULT, null, true, 0);
        }
    }

    /** A request refused: the message names the field. */
    public static final class InvalidRequest extends Exception {
        private static final long serialVersionUID = 1L;
        private final String field;

        InvalidRequest(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }

        /** The field refused, or null when the body as a whole is. */
        public String field() {
            return field;
        }
    }

    /** {@code body} (a parsed JSON value, null for none) as a request. */
    public static Request request(JsonNode body) throws InvalidRequest {
        if (body == null || !body.isObject()) {
            throw new InvalidRequest(null, "the body must be a JSON object with query (a non-empty string)");
        }
        JsonNode query = body.path("query");
        if (!query.isTextual() || query.asText().isBlank()) {
            throw new InvalidRequest("query", "query (a non-empty string) is required");
        }
        JsonNode collection = body.path("collection");
        if (!absent(collection) && !collection.isTextual()) {
            throw new InvalidRequest(
                    "collection", "collection must be a string (a collection's name), not " + kind(collection));
        }
        JsonNode k = body.path("k");
        if (!absent(k)
                && !(k.isIntegralNumber() && k.canConvertToInt() && k.intValue() >= 1 && k.intValue() <= MAX_K)) {
            throw new InvalidRequest(
                    "k", "k must be an integer from 1 to " + MAX_K + ", not " + (k.isNumber() ? k : kind(k)));
        }
        JsonNode filter = body.path("filter");
        if (!absent(filter) && !filter.isObject()) {
            throw new InvalidRequest("filter", "filter must be a JSON object (README, \"Search\": its operators)");
        }
        JsonNode mode = body.path("mode");
        SearchMode searchMode = mode.isTextual() ? SearchMode.fromWire(mode.asText()) : null;
        if (!absent(mode) && searchMode == null) {
            throw new InvalidRequest(
                    "mode",
                    "mode must be \"vector\", \"text\" or \"hybrid\", not "
                            + (mode.isTextual() ? "\"" + mode.asText() + "\"" : kind(mode)));
        }
        JsonNode minScore = body.path("min_score");
        if (!absent(minScore) && !(minScore.isNumber() && Double.isFinite(minScore.doubleValue()))) {
            throw new InvalidRequest("min_score", "min_score must be a number, not " + kind(minScore));
        }
        JsonNode group = body.path("group_by_document");
        if (!absent(group) && !group.isBoolean()) {
            throw new InvalidRequest(
                    "group_by_document", "group_by_document must be true or false, not " + kind(group));
        }
        JsonNode context = body.path("context");
        if (!absent(context)
                && !(context.isIntegralNumber()
                        && context.canConvertToInt()
                        && context.intValue() >= 0
                        && context.intValue() <= MAX_CONTEXT)) {
            throw new InvalidRequest(
                    "context",
                    "context must be an integer from 0 to " + MAX_CONTEXT + ", not "
                            + (context.isNumber() ? context : kind(context)));
        }
        return new Request(
                query.asText(),
                absent(collection) ? DEFAULT_COLLECTION : collection.asText(),
                absent(k) ? DEFAULT_K : k.intValue(),
                absent(filter) ? null : filter.toString(),
                absent(mode) ? SearchMode.DEFAULT : searchMode,
                absent(minScore) ? null : minScore.doubleValue(),
                absent(group) || group.booleanValue(),
                absent(context) ? 0 : context.intValue());
    }

    /** The answer for {@code hits}, best first. */
    public static ObjectNode results(List<Searcher.Hit> hits) {
        ObjectNode answer = JSON.createObjectNode();
        ArrayNode results = answer.putArray("results");
        for (Searcher.Hit h : hits) {
            ObjectNode r = results.addObject();
            r.put("document_id", h.documentId());
            r.put("title", h.title());
            r.put("score", h.score());
            r.put("content", h.content());
            r.put("chunk_id", h.chunkId());
            r.set("metadata", readTree(h.metadata()));
            r.put("seq", h.seq());
            ArrayNode matching = r.putArray("matching_chunks");
            h.matchingChunks().forEach(matching::add);
            ArrayNode context = r.putArray("context");
            for (Searcher.ContextChunk c : h.context()) {
                context.addObject().put("seq", c.seq()).put("content", c.content());
            }
            r.put("vector_score", h.vectorScore());
            r.put("text_score", h.textScore());
        }
        return answer;
    }

    /** Missing or null: the field's default. */
    private static boolean absent(JsonNode n) {
        return n.isMissingNode() || n.isNull();
    }

    private static String kind(JsonNode n) {
        return n.isContainerNode()
                ? (n.isArray() ? "an array" : "an object")
                : "a " + n.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private static JsonNode readTree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            return JSON.nullNode();
        }
    }
}
