package io.ragline.benchmarks.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.benchmarks.corpus.KnownItemQuery;
import java.util.List;
import org.junit.jupiter.api.Test;

class RankingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<KnownItemQuery> ASKED =
            List.of(new KnownItemQuery("first query", "a"), new KnownItemQuery("second query", "b"));

    private static JsonNode answer(String query, String... ids) {
        var node = JSON.createObjectNode().put("query", query);
        var array = node.putArray("ids");
        for (String id : ids) {
            array.add(id);
        }
        return node;
    }

    @Test
    void thePeersAnswersBecomeRankingsInTheOrderAsked() {
        List<List<String>> rankings = Rankings.peer(
                ASKED,
                List.of(
                        answer("first query", "a", "c"),
                        answer("second query", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "b")));

        assertThat(rankings)
                .containsExactly(List.of("a", "c"), List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10"));
        assertThat(Retrieval.score(rankings, List.of("a", "b")).mrr()).isEqualTo(0.5);
    }

    @Test
    void anAnswerMissingOrToAnotherQueryIsAnError() {
        assertThatThrownBy(() -> Rankings.peer(ASKED, List.of(answer("first query", "a"))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("answered 1 of 2");
        assertThatThrownBy(() -> Rankings.peer(ASKED, List.of(answer("second query", "b"), answer("first query"))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("answer 1 is not to query 1");
    }
}
