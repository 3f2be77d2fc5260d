package io.ragline.ingest.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoutingSettingsTest {
    @TempDir
    Path dir;

    @Test
    void aGoodFileIsReadInOrderAndDisabledRulesAreLeftOut() throws Exception {
        Path file = Files.writeString(
                dir.resolve("rules.json"),
                "{\"rules\":[{\"name\":\"first\",\"match\":"
                        + "\"github/*\",\"action\":\"record\"},{\"name\":\"off\",\"action\":\"record\",\"enabled\":false},"
                        + "{\"action\":\"record\"}]}");
        Env env = new Env(Map.of(RoutingSettings.RULES, file.toString(), RoutingSettings.REFRESH, "2s"));

        RoutingSettings settings = RoutingSettings.from(env);

        env.validate();
        assertThat(settings.fileRules()).extracting(RoutingRule::name).containsExactly("first", "rule-3");
        assertThat(settings.refresh()).hasSeconds(2);
    }

    @Test
    void aBadFileFailsStartUpNamingEveryProblemOfEveryRule() throws Exception {
        Path file = Files.writeString(
                dir.resolve("rules.json"),
                "{\"rules\":[{\"name\":\"a\",\"action\":\"x\"},"
                        + "{\"name\":\"a\",\"action\":\"record\",\"enabled\":\"no\"},{\"action\":\"ingest_document\"}]}");
        Env env = new Env(Map.of(RoutingSettings.RULES, file.toString()));

        RoutingSettings.from(env);

        assertThatThrownBy(env::validate)
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("RAGLINE_ROUTING_RULES: rules.json rule 1 'a': action 'x' is not")
                .hasMessageContaining("rules.json rule 2 'a': the name 'a' is used twice")
                .hasMessageContaining("rules.json rule 2 'a': enabled must be true or false")
                .hasMessageContaining("rules.json rule 3: ingest_document needs 'content' in paths or fixed")
                .hasMessageContaining("rules.json rule 3: ingest_document needs 'id' in paths or fixed");
    }

    @Test
    void aMissingOrMalformedFileIsAStartUpProblem() throws Exception {
        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"rules\": [");
        Path wrongShape = Files.writeString(dir.resolve("list.json"), "[]");
        for (Map.Entry<Path, String> c : Map.of(
                        dir.resolve("absent.json"),
                        "no such file",
                        broken,
                        "not valid JSON",
                        wrongShape,
                        "must be a JSON object {\"rules\": [ ... ]}")
                .entrySet()) {
            Env env = new Env(Map.of(RoutingSettings.RULES, c.getKey().toString()));
            RoutingSettings.from(env);
            assertThat(env.problems()).singleElement().asString().contains(c.getValue());
        }
    }
}
