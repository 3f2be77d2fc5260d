package io.ragline.embedding.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class SearchJsonTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static SearchJson.Request read(String body) throws Exception {
        return SearchJson.request(JSON.readTree(body));
    }

    @Test
    void aRequestWithOnlyAQueryTakesEveryDefault() throws Exception {
        assertThat(read("{\"query\": \"tea\", \"mode\": null, \"min_score\": null, \"group_by_document\": null,"
                        + " \"context\": null}"))
                .isEqualTo(new SearchJson.Request("tea", "default", 5, null, SearchMode.HYBRID, null, true, 0))
                .isEqualTo(new SearchJson.Request("tea", "default", 5, null));
    }

    @Test
    void theNewFieldsAreReadAsGiven() throws Exception {
        assertThat(read("{\"query\": \"tea\", \"mode\": \"hybrid\", \"min_score\": 0.25, \"group_by_document\": false,"
                        + " \"context\": 5, \"filter\": {\"year\": {\"$gte\": 2020}}}"))
                .isEqualTo(new SearchJson.Request(
                        "tea", "default", 5, "{\"year\":{\"$gte\":2020}}", SearchMode.HYBRID, 0.25, false, 5));
        assertThat(read("{\"query\": \"tea\", \"mode\": \"text\", \"min_score\": -1}")
                        .mode())
                .isEqualTo(SearchMode.TEXT);
    }

    @Test
    void aFieldOfTheWrongTypeOrRangeIsRefusedNamingIt() {
        for (String[] bad : List.of(
                new String[] {"\"mode\": \"VECTOR\"", "mode"},
                new String[] {"\"mode\": true", "mode"},
                new String[] {"\"min_score\": \"0.5\"", "min_score"},
                new String[] {"\"group_by_document\": 1", "group_by_document"},
                new String[] {"\"context\": 6", "context"},
                new String[] {"\"context\": \"1\"", "context"},
                new String[] {"\"filter\": [1]", "filter"})) {
            assertThatThrownBy(() -> read("{\"query\": \"tea\", " + bad[0] + "}"))
                    .as(bad[0])
                    .isInstanceOfSatisfying(
                            SearchJson.InvalidRequest.class,
                            e -> assertThat(e.field()).isEqualTo(bad[1]));
        }
    }

    @Test
    void anAnswerCarriesEachHitsPositionMatchingChunksContextAndBothScores() {
        Searcher.Hit hit = new Searcher.Hit(
                "doc",
                "Title",
                0.03,
                "text",
                7,
                "{\"lang\":\"en\"}",
                2,
                List.of(0, 5),
                List.of(new Searcher.ContextChunk(1, "before"), new Searcher.ContextChunk(3, "after")),
                0.8,
                null);
        JsonNode r = SearchJson.results(List.of(hit)).get("results").get(0);
        assertThat(r.get("seq").intValue()).isEqualTo(2);
        assertThat(r.get("matching_chunks").toString()).isEqualTo("[0,5]");
        assertThat(r.get("context").toString())
                .isEqualTo("[{\"seq\":1,\"content\":\"before\"},{\"seq\":3,\"content\":\"after\"}]");
        assertThat(r.get("vector_score").doubleValue()).isEqualTo(0.8);
        assertThat(r.get("text_score").isNull()).isTrue();
        assertThat(r.get("metadata").get("lang").asText()).isEqualTo("en");
    }
}
