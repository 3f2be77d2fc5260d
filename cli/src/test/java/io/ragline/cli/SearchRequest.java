package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** {@code POST /search} as a user sends it, without a token; the answer must be 200. */
final class SearchRequest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SearchRequest() {}

    /** The {@code results} of a search for {@code query} (top {@code k}; the default collection). */
    static JsonNode results(HttpClient http, int port, String query, int k) throws Exception {
        ObjectNode body = JSON.createObjectNode().put("query", query).put("k", k);
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/search"))
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body()).get("results");
    }
}
