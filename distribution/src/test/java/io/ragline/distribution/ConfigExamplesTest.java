package io.ragline.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.Env;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.ingest.IngestWorker;
import io.ragline.ingest.routing.RoutingRules;
import io.ragline.ingest.routing.RoutingSettings;
import io.ragline.training.TrainingWorker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files of the distribution's {@code config/}, read by the code that reads them in production. */
class ConfigExamplesTest {
    private static final Path CONFIG = Path.of("src/dist/config");
    private static final Pattern ASSIGNMENT = Pattern.compile("^(#?)([A-Z][A-Z0-9_]*)=(.*)$");

    @TempDir
    Path dir;

    @Test
    void theShellReadsEveryValueOfTheEnvExampleAsItIsWrittenSoAnEnvFileReaderAgrees() throws Exception {
        Map<String, String> written = assignments(Files.readAllLines(CONFIG.resolve("ragline.env")), false);
        Map<String, String> read = sourced(CONFIG.resolve("ragline.env"));

        assertThat(written).containsKeys("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "RAGLINE_MIGRATE_ON_START");
        written.forEach((name, value) -> assertThat(read).containsEntry(name, value));
    }

    @Test
    void theEnvExampleWithItsCommentedSecretsAndConfigFilesIsAcceptedByEveryProcess() throws Exception {
        // Each commented variable enabled: /etc/ragline/X is the example config/X, /run/secrets/X a file.
        List<String> enabled = new ArrayList<>();
        for (String line : Files.readAllLines(CONFIG.resolve("ragline.env"))) {
            Matcher m = ASSIGNMENT.matcher(line);
            enabled.add(m.matches() ? m.group(2) + "=" + localPath(m.group(3)) : line);
        }
        Path env = Files.write(dir.resolve("ragline.env"), enabled);
        Map<String, String> read = sourced(env);
        assertThat(read)
                .containsKeys("RAGLINE_KAFKA_PROPERTIES_FILE", "RAGLINE_ROUTING_RULES", "RAGLINE_API_TOKENS_FILE");

        assertThatCode(() -> everyProcessReads(new Env(read))).doesNotThrowAnyException();
    }

    @Test
    void theActiveLinesOfTheEnvExampleAreEnoughForEveryProcessButTheEmbeddingWorkersSearch() throws Exception {
        Env env = new Env(sourced(CONFIG.resolve("ragline.env")));
        CoreSettings.from(env, IngestWorker.DEFAULT_ADMIN_PORT);
        IngestWorker.wiring(env);
        TrainingWorker.wiring(env);
        EventDispatcher.wiring(env);

        assertThatCode(env::validate).doesNotThrowAnyException();
    }

    @Test
    void theKafkaPropertiesExampleIsASaslSslConfigurationKafkaAcceptsAsAWhole() {
        Env env = new Env(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS",
                "kafka-1.example.internal:9092",
                "RAGLINE_KAFKA_PROPERTIES_FILE",
                CONFIG.resolve("kafka-client.properties").toString()));
        KafkaSettings settings = KafkaSettings.from(env);

        assertThatCode(env::validate).doesNotThrowAnyException();
        assertThat(KafkaClients.configurationProblem(settings)).isEmpty();
        assertThat(settings.clientProperties().toString())
                .contains("security.protocol=SASL_SSL")
                .contains("sasl.jaas.config=<masked>")
                .doesNotContain("change-me");
    }

    @Test
    void theRoutingRulesExampleHasNoProblemAndEveryRuleIsEnabled() {
        List<String> problems = new ArrayList<>();
        List<?> rules = RoutingRules.readFile(CONFIG.resolve("routing-rules.json"), problems);

        assertThat(problems).isEmpty();
        assertThat(rules).hasSize(3);
        Env env = new Env(Map.of(
                RoutingSettings.RULES, CONFIG.resolve("routing-rules.json").toString()));
        RoutingSettings.from(env);
        assertThatCode(env::validate).doesNotThrowAnyException();
    }

    /** What each process reads at start-up before it connects anywhere; problems are thrown at once. */
    private static void everyProcessReads(Env env) {
        CoreSettings.from(env, IngestWorker.DEFAULT_ADMIN_PORT);
        IngestWorker.wiring(env);
        EmbeddingWorker.wiring(env, "RAGLINE_HTTP_PORT", EmbeddingWorker.DEFAULT_HTTP_PORT);
        TrainingWorker.wiring(env);
        EventDispatcher.wiring(env);
        env.validate();
        assertThat(KafkaClients.configurationProblem(KafkaSettings.from(env))).isEmpty();
    }

    private String localPath(String value) throws IOException {
        if (value.startsWith("/etc/ragline/")) {
            Path example =
                    CONFIG.resolve(value.substring("/etc/ragline/".length())).toAbsolutePath();
            assertThat(example).as("the example file %s names", value).exists();
            return example.toString();
        }
        if (value.startsWith("/run/secrets/")) {
            Path secret = dir.resolve(value.substring("/run/secrets/".length()));
            // A bearer token is 16-512 characters of A-Z a-z 0-9 - . _ ~ + /; any secret may be one.
            Files.writeString(secret, "c2VjcmV0LWZvci10aGUtZXhhbXBsZQ\n");
            return secret.toString();
        }
        return value;
    }

    private static Map<String, String> assignments(List<String> lines, boolean commentedToo) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = ASSIGNMENT.matcher(line);
            if (m.matches() && (commentedToo || m.group(1).isEmpty())) {
                values.put(m.group(2), m.group(3));
            }
        }
        return values;
    }

    /** The variables a POSIX shell has after {@code set -a; . file}, in an otherwise empty environment. */
    private static Map<String, String> sourced(Path file) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(
                "sh",
                "-c",
                "set -a; . \"$1\"; exec env",
                "sh",
                file.toAbsolutePath().toString());
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.redirectErrorStream(true);
        Process sh = pb.start();
        String out = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(sh.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(sh.exitValue()).as(out).isZero();
        Map<String, String> values = new HashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        Map<String, String> declared = assignments(Files.readAllLines(file), true);
        values.keySet().retainAll(declared.keySet());
        return values;
    }
}
