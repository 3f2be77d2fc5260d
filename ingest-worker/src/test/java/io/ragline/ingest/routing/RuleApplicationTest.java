package io.ragline.ingest.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.contracts.Topic;
import io.ragline.contracts.event.ClaudeEvent;
import org.junit.jupiter.api.Test;

class RuleApplicationTest {
    private static final RuleApplication APPLY = new RuleApplication(1000);

    private static ClaudeEvent event(String payload, int replay) throws Exception {
        JsonNode message = RoutingRuleTest.tree("{\"schema_version\":1,\"id\":7,\"source\":\"github\","
                + "\"delivery_id\":\"d-1\",\"event_type\":\"issues\",\"payload\":" + payload + ",\"replay\":" + replay
                + "}");
        return new ClaudeEvent(7L, "github", "d-1", "issues", replay, message, null);
    }

    private static final String ISSUE_RULE = "{\"name\":\"issues\",\"action\":\"ingest_document\","
            + "\"fixed\":{\"collection\":\"tickets\"},"
            + "\"paths\":{\"id\":\"/payload/issue/number\",\"title\":\"/payload/issue/title\","
            + "\"content\":\"/payload/issue/body\",\"metadata\":\"/payload/issue/labels~1meta\","
            + "\"version\":\"/payload/issue/updated_at\"}}";

    @Test
    void anIngestRuleTakesEachFieldByJsonPointerIntoTheMessage() throws Exception {
        RuleApplication.Outgoing out = APPLY.apply(
                RoutingRuleTest.rule(ISSUE_RULE),
                event(
                        "{\"issue\":{\"number\":42,\"title\":\"Crash\",\"body\":\"It crashes.\","
                                + "\"labels/meta\":{\"label\":\"bug\"},\"updated_at\":\"2026-01-02T03:04:05Z\"}}",
                        0));

        assertThat(out.topic()).isEqualTo(Topic.DOCUMENTS);
        assertThat(out.key()).isEqualTo("tickets/42");
        assertThat(out.value().toString())
                .isEqualTo("{\"schema_version\":1,\"op\":\"upsert\",\"collection\":\"tickets\",\"id\":\"42\","
                        + "\"title\":\"Crash\",\"content\":\"It crashes.\",\"source\":\"github/d-1\","
                        + "\"metadata\":{\"label\":\"bug\"},\"version\":1767323045000}");
    }

    @Test
    void withoutAVersionTheEventsTimeOrdersTheDocumentsVersions() throws Exception {
        String rule = "{\"action\":\"ingest_document\",\"paths\":{\"id\":\"/payload/n\",\"content\":\"/payload/c\"}}";
        JsonNode earlier = RoutingRuleTest.tree("{\"schema_version\":1,\"id\":7,\"source\":\"github\","
                + "\"delivery_id\":\"d-1\",\"event_type\":\"issues\",\"payload\":{\"n\":1,\"c\":\"old\"},"
                + "\"created_at\":\"2026-11-21T21:50:00.123456+00:00\",\"replay\":0}");
        JsonNode later = RoutingRuleTest.tree("{\"schema_version\":1,\"id\":8,\"source\":\"github\","
                + "\"delivery_id\":\"d-2\",\"event_type\":\"issues\",\"payload\":{\"n\":1,\"c\":\"new\"},"
                + "\"created_at\":\"2026-11-21T21:50:01.5+00:00\",\"replay\":0}");

        long v1 = APPLY.apply(
                        RoutingRuleTest.rule(rule), new ClaudeEvent(7L, "github", "d-1", "issues", 0, earlier, null))
                .value()
                .get("version")
                .asLong();
        long v2 = APPLY.apply(
                        RoutingRuleTest.rule(rule), new ClaudeEvent(8L, "github", "d-2", "issues", 0, later, null))
                .value()
                .get("version")
                .asLong();

        assertThat(v1).isEqualTo(1_795_297_800_123L);
        assertThat(v2).isGreaterThan(v1);
    }

    @Test
    void optionalFieldsWithoutValueAreLeftOutAndTheCollectionDefaults() throws Exception {
        RuleApplication.Outgoing out = APPLY.apply(
                RoutingRuleTest.rule("{\"action\":\"ingest_document\",\"paths\":{\"id\":\"/delivery_id\","
                        + "\"content\":\"/payload/text\",\"title\":\"/payload/nothing\",\"metadata\":\"/payload/m\"}}"),
                event("{\"text\":\"hello\",\"m\":null}", 0));

        assertThat(out.key()).isEqualTo("default/d-1");
        assertThat(out.value().has("title")).isFalse();
        assertThat(out.value().has("metadata")).isFalse();
    }

    @Test
    void aRequiredFieldWithoutValueOrOfTheWrongTypeSaysWhichRuleFieldAndPath() throws Exception {
        RoutingRule rule = RoutingRuleTest.rule(ISSUE_RULE);

        assertThatThrownBy(() -> APPLY.apply(rule, event("{\"issue\":{\"number\":1}}", 0)))
                .isInstanceOf(RuleException.class)
                .hasMessage("rule 'issues' (ingest_document): required field 'content' has no value at"
                        + " /payload/issue/body in the event");
        assertThatThrownBy(() -> APPLY.apply(rule, event("{\"issue\":{\"number\":1,\"body\":{\"x\":1}}}", 0)))
                .hasMessage("rule 'issues' (ingest_document): 'content' at /payload/issue/body must be a string, not"
                        + " object");
        assertThatThrownBy(() -> APPLY.apply(
                        rule, event("{\"issue\":{\"number\":1,\"body\":\"b\"," + "\"updated_at\":\"yesterday\"}}", 0)))
                .hasMessageContaining("'version' at /payload/issue/updated_at must be a non-negative integer or an"
                        + " ISO-8601 timestamp, not 'yesterday'");
        assertThatThrownBy(() ->
                        APPLY.apply(rule, event("{\"issue\":{\"number\":1,\"body\":\"" + "x".repeat(2000) + "\"}}", 0)))
                .hasMessageContaining("the document is invalid: content too large");
    }

    @Test
    void anInvalidRuleFailsEveryEventItMatches() throws Exception {
        RoutingRule bad = RoutingRuleTest.rule("{\"action\":\"ingest_document\",\"paths\":{\"id\":\"x\"}}");

        assertThatThrownBy(() -> APPLY.apply(bad, event("{}", 0)))
                .hasMessageStartingWith("routing rule 'r' is invalid: test rule 'r': paths.id must be a JSON Pointer");
    }

    @Test
    void aTrainingRuleMixesFixedValuesAndPathsAndDefaultsTheRequestIdToTheDelivery() throws Exception {
        RoutingRule rule = RoutingRuleTest.rule("{\"name\":\"train\",\"action\":\"request_training\","
                + "\"fixed\":{\"task\":\"classification\",\"backend\":\"builtin\",\"test_size\":0.25,"
                + "\"deploy\":\"if_better\",\"data\":{\"collection\":\"tickets\",\"label_path\":\"label\"}},"
                + "\"paths\":{\"project\":\"/payload/project\",\"algorithm\":\"/payload/algo\","
                + "\"hyperparameters\":\"/payload/hp\"}}");

        RuleApplication.Outgoing first = APPLY.apply(
                rule, event("{\"project\":\"triage\",\"algo\":\"softmax_regression\",\"hp\":{\"epochs\":5}}", 0));
        RuleApplication.Outgoing replayed = APPLY.apply(rule, event("{\"project\":\"triage\"}", 2));

        assertThat(first.topic()).isEqualTo(Topic.TRAINING);
        assertThat(first.key()).isEqualTo("triage");
        assertThat(first.value().toString())
                .isEqualTo("{\"schema_version\":1,\"request_id\":\"github/d-1\",\"project\":\"triage\","
                        + "\"task\":\"classification\",\"backend\":\"builtin\",\"data\":{\"collection\":\"tickets\","
                        + "\"label_path\":\"label\"},\"algorithm\":\"softmax_regression\",\"hyperparameters\":{\"epochs\":5},"
                        + "\"test_size\":0.25,\"deploy\":\"if_better\"}");
        assertThat(replayed.value().get("request_id").asText()).isEqualTo("github/d-1/replay-2");
        assertThat(replayed.value().get("hyperparameters").toString()).isEqualTo("{}");
    }

    @Test
    void aTrainingRequestTheTrainingWorkerWouldDeadLetterFailsTheEventNamingEveryProblem() throws Exception {
        RoutingRule rule = RoutingRuleTest.rule(
                "{\"action\":\"request_training\",\"fixed\":{\"project\":\"p\","
                        + "\"task\":\"classification\",\"backend\":\"builtin\",\"data\":{\"collection\":\"c\","
                        + "\"label_path\":\"l\"}},\"paths\":{\"algorithm\":\"/payload/algo\",\"hyperparameters\":\"/payload/hp\"}}");

        assertThatThrownBy(() -> APPLY.apply(rule, event("{\"algo\":\"xgboost\",\"hp\":{\"c\":1}}", 0)))
                .isInstanceOf(RuleException.class)
                .hasMessageContaining("the training request is invalid: ")
                .hasMessageContaining("algorithm 'xgboost' is not a builtin algorithm")
                .hasMessageContaining("hyperparameters.c is not a builtin hyperparameter");
    }

    @Test
    void trainingDataMustSuitTheBackend() throws Exception {
        RoutingRule rule = RoutingRuleTest.rule("{\"action\":\"request_training\",\"fixed\":{\"project\":\"p\","
                + "\"task\":\"regression\",\"backend\":\"pgml\"},\"paths\":{\"data\":\"/payload/data\"}}");

        assertThatThrownBy(() -> APPLY.apply(rule, event("{\"data\":{\"collection\":\"c\",\"label_path\":\"l\"}}", 0)))
                .hasMessage("rule 'r' (request_training): the training request is invalid: data.collection is not"
                        + " used by the pgml backend (it takes relation and label_column); data.label_path is not used"
                        + " by the pgml backend (it takes relation and label_column); missing data.relation;"
                        + " missing data.label_column");
        assertThat(APPLY.apply(rule, event("{\"data\":{\"relation\":\"t\",\"label_column\":\"y\"}}", 0))
                        .value()
                        .get("data")
                        .toString())
                .isEqualTo("{\"relation\":\"t\",\"label_column\":\"y\"}");
    }

    @Test
    void aRecordRuleSendsNothing() throws Exception {
        assertThat(APPLY.apply(RoutingRuleTest.rule("{\"action\":\"record\"}"), event("{}", 0)))
                .isNull();
    }
}
