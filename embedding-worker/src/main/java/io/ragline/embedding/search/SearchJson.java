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
 * console's {@code POST /api/v1/search}: the request {@code {"query","collection","k","filter"}},
 * each field checked (a wrong type is refused, never coerced), and the answer {@code
 * {"results":[{"document_id","title","score","content","chunk_id","metadata"}]}}.
 */
public final class SearchJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code k} when the request has none. */
    public static final int DEFAULT_K = 5;

    public static final int MAX_K = 100;

    /** {@code collection} when the request has none. */
    public static final String DEFAULT_COLLECTION = "default";

    private SearchJson() {}

    /** A request read and checked; {@code filterJson} is null for none. */
    public record Request(String query, String collection, int k, String filterJson) {}

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
            throw new InvalidRequest(
                    "filter", "filter must be a JSON object (matched against document metadata with @>)");
        }
        return new Request(
                query.asText(),
                absent(collection) ? DEFAULT_COLLECTION : collection.asText(),
                absent(k) ? DEFAULT_K : k.intValue(),
                absent(filter) ? null : filter.toString());
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
