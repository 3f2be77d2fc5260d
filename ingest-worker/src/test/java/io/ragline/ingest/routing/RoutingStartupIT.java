package io.ragline.ingest.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.ingest.IngestWorker;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code IngestWorker.main} as a real process refuses to start with bad routing rules, naming each problem. */
class RoutingStartupIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @TempDir
    Path dir;

    @Test
    void aBadRulesFileStopsStartUpNamingEveryProblem() throws Exception {
        Path file = Files.writeString(
                dir.resolve("rules.json"),
                "{\"rules\":[{\"name\":\"docs\",\"match\":\"github/*\","
                        + "\"action\":\"ingest_document\",\"paths\":{\"id\":\"issue.number\"}},{\"action\":\"teleport\"}]}");
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0");
        env.put("RAGLINE_ROUTING_RULES", file.toString());
        env.put("RAGLINE_ROUTING_RULES_REFRESH", "soon");

        JavaProcess worker = JavaProcess.start(List.of(), IngestWorker.class.getName(), env);

        assertThat(worker.waitFor(60)).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("RAGLINE_ROUTING_RULES: rules.json rule 1 'docs': paths.id must be a JSON Pointer")
                .contains("RAGLINE_ROUTING_RULES: rules.json rule 1 'docs': ingest_document needs 'content'")
                .contains("RAGLINE_ROUTING_RULES: rules.json rule 2: action 'teleport' is not")
                .contains("RAGLINE_ROUTING_RULES_REFRESH='soon'");
    }

    @Test
    void aBadRuleInTheTableStopsStartUpNamingIt() throws Exception {
        try (var c = db.connect();
                var s = c.createStatement()) {
            s.execute("insert into routing_rules (name, event_type, action, paths) values ('tickets', 'ticket.*',"
                    + " 'ingest_document', '{\"id\": \"/payload/id\", \"content\": \"payload.text\"}')");
            s.execute("insert into routing_rules (name, action, fixed, enabled) values ('off', 'record',"
                    + " '{\"id\": 1}', false)");
        }
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0");

        JavaProcess worker = JavaProcess.start(List.of(), IngestWorker.class.getName(), env);

        assertThat(worker.waitFor(90)).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("routing_rules 'tickets': paths.content must be a JSON Pointer")
                .doesNotContain("'off'");
    }
}
