package io.ragline.ingest.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class RoutingRuleTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static RoutingRule rule(String json) throws Exception {
        JsonNode node = JSON.readTree(json);
        String name = node.path("name").asText("r");
        return RoutingRule.parse(node, name, "test rule '" + name + "'");
    }

    @Test
    void sourceAndEventTypeGlobsMatchWholeNames() throws Exception {
        RoutingRule r = rule("{\"source\":\"git*\",\"event_type\":\"issue?\",\"action\":\"record\"}");

        assertThat(r.valid()).as(r.problems().toString()).isTrue();
        assertThat(r.matches("github", "issues")).isTrue();
        assertThat(r.matches("gitlab", "issueX")).isTrue();
        assertThat(r.matches("github", "issue")).isFalse();
        assertThat(r.matches("github", "issues.opened")).isFalse();
        assertThat(r.matches("agithub", "issues")).isFalse();
    }

    @Test
    void matchIsSourceSlashEventTypeAndAStarAloneMatchesEverything() throws Exception {
        RoutingRule github = rule("{\"match\":\"github/*\",\"action\":\"record\"}");
        RoutingRule any = rule("{\"match\":\"*\",\"action\":\"record\"}");
        RoutingRule defaults = rule("{\"action\":\"record\"}");
        RoutingRule dotted = rule("{\"match\":\"stripe/invoice.*\",\"action\":\"record\"}");

        assertThat(github.matches("github", "push")).isTrue();
        assertThat(github.matches("github", "a/b.c")).isTrue();
        assertThat(github.matches("stripe", "push")).isFalse();
        assertThat(any.matches("cron", "nightly")).isTrue();
        assertThat(defaults.matches("cron", "nightly")).isTrue();
        assertThat(dotted.matches("stripe", "invoice.paid")).isTrue();
        assertThat(dotted.matches("stripe", "invoiceXpaid")).isFalse();
        assertThat(dotted.matches("stripe", "charge.succeeded")).isFalse();
    }

    @Test
    void aBadRuleNamesEveryProblem() throws Exception {
        RoutingRule r = rule("{\"match\":\"github\",\"source\":\"x\",\"action\":\"ingest_document\",\"colour\":1,"
                + "\"paths\":{\"id\":\"issue.id\",\"body\":\"/payload/body\"},"
                + "\"fixed\":{\"collection\":\"Not A Name\",\"id\":\"7\"}}");

        assertThat(r.valid()).isFalse();
        assertThat(String.join("\n", r.problems()))
                .contains("unknown key 'colour'")
                .contains("either match or source/event_type")
                .contains("match 'github' must be SOURCE/EVENT_TYPE")
                .contains("paths.id must be a JSON Pointer")
                .contains("paths.body is not a field of ingest_document")
                .contains("fixed.collection must be a collection name")
                .contains("needs 'content' in paths or fixed");
        assertThat(r.problems()).allSatisfy(line -> assertThat(line).startsWith("test rule 'r'"));
    }

    @Test
    void aFieldInBothPathsAndFixedAndAnUnknownActionAreRefused() throws Exception {
        RoutingRule both = rule("{\"action\":\"ingest_document\",\"paths\":{\"id\":\"/id\",\"content\":\"/c\"},"
                + "\"fixed\":{\"id\":\"x\"}}");
        RoutingRule unknown = rule("{\"action\":\"forward\"}");
        RoutingRule missing = rule("{\"source\":\"a\"}");
        RoutingRule recordWithFields = rule("{\"action\":\"record\",\"fixed\":{\"id\":\"x\"}}");

        assertThat(both.problems()).anyMatch(p -> p.contains("'id' is in both paths and fixed"));
        assertThat(unknown.problems()).anyMatch(p -> p.contains("action 'forward' is not ingest_document"));
        assertThat(missing.problems()).anyMatch(p -> p.contains("action is missing"));
        assertThat(recordWithFields.problems()).anyMatch(p -> p.contains("fixed.id is not a field of record"));
    }

    @Test
    void trainingRulesCheckFixedValuesAndRequireProjectTaskBackendAndData() throws Exception {
        RoutingRule r = rule("{\"action\":\"request_training\",\"fixed\":{\"backend\":\"sklearn\","
                + "\"deploy\":\"sometimes\",\"test_size\":1.5,\"hyperparameters\":[]}}");

        assertThat(String.join("\n", r.problems()))
                .contains("fixed.backend must be one of builtin, pgml, not 'sklearn'")
                .contains("fixed.deploy must be one of if_better, always, never")
                .contains("fixed.test_size must be a number between 0 and 1")
                .contains("fixed.hyperparameters must be an object")
                .contains("needs 'project'")
                .contains("needs 'task'")
                .contains("needs 'data'");
    }

    static JsonNode tree(String json) throws Exception {
        return JSON.readTree(json);
    }
}
