package io.ragline.devstack.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.ragline.devstack.Command;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The repository's {@code docker-compose.yml}, parsed strictly, against what the README documents,
 * the secrets {@code dev up} writes, and the roles of issue "Run against secured Kafka and Postgres";
 * then, where a compose is installed, against compose itself. The workers' ports are held against the
 * code's defaults in the cli module (ComposePortsTest), which sees the workers' classes.
 */
class ComposeFileTest {
    private static final Set<String> WORKERS =
            Set.of("event-dispatcher", "ingest-worker", "embedding-worker", "training-worker", "console");
    private static final String IMAGE = "ragline/ragline:local";
    private static final Pattern SECRET_NAME = Pattern.compile("(?i).*(PASSWORD|SECRET|TOKEN|API_KEY|JAAS).*");
    private static final Pattern URL_PASSWORD = Pattern.compile("://[^/@\\s]*:[^/@\\s]*@");
    private static final Pattern RANDOM_LOOKING = Pattern.compile("[A-Za-z0-9+/=_-]{20,}");

    private static Path root;
    private static JsonNode compose;
    private static JsonNode services;

    @BeforeAll
    static void parse() throws IOException {
        root = repositoryRoot();
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory())
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        compose = yaml.readTree(root.resolve("docker-compose.yml").toFile());
        services = compose.required("services");
    }

    @Test
    void theRaglineServicesAreTheMigrationTheFourWorkersAndTheConsoleEachBuiltFromTheRepository() {
        Set<String> ragline = raglineServices();

        assertThat(ragline)
                .containsExactlyInAnyOrder(
                        "migrate",
                        "event-dispatcher",
                        "ingest-worker",
                        "embedding-worker",
                        "training-worker",
                        "console");
        for (String name : ragline) {
            assertThat(services.path(name).path("build").asText()).as(name).isEqualTo(".");
        }
        for (String worker : WORKERS) {
            assertThat(list(services.path(worker).path("command"))).as(worker).containsExactly(worker);
        }
    }

    @Test
    void everyVariableSetOnARaglineServiceIsOneTheReadmeDocuments() throws IOException {
        List<Pattern> documented = readmeVariables();
        assertThat(documented).hasSizeGreaterThan(50);

        for (String service : raglineServices()) {
            for (String variable : environment(service).keySet()) {
                assertThat(documented)
                        .as("%s sets %s, which no row of the README's variable tables names", service, variable)
                        .anyMatch(p -> p.matcher(variable).matches());
            }
        }
    }

    @Test
    void everyFileVariablePointsAtASecretTheServiceListsAndTheFileDeclares() {
        JsonNode declared = compose.required("secrets");
        assertThat(names(declared)).containsExactlyInAnyOrderElementsOf(ComposeSecrets.names());
        for (String secret : names(declared)) {
            assertThat(declared.path(secret).path("file").asText())
                    .as("the file of secret %s, which dev up writes", secret)
                    .isEqualTo("./" + ComposeSecrets.DIRECTORY + "/" + secret);
        }
        for (String service : names(services)) {
            Set<String> listed = new LinkedHashSet<>(list(services.path(service).path("secrets")));
            Set<String> used = new LinkedHashSet<>();
            environment(service).forEach((variable, value) -> {
                if (variable.endsWith("_FILE")) {
                    assertThat(value).as("%s %s", service, variable).startsWith("/run/secrets/");
                    String secret = value.substring("/run/secrets/".length());
                    assertThat(listed)
                            .as("%s's secrets, for %s", service, variable)
                            .contains(secret);
                    used.add(secret);
                }
            });
            assertThat(listed).as("the secrets %s mounts and reads", service).isEqualTo(used);
        }
    }

    @Test
    void noValueInTheFileLooksLikeASecret() {
        for (String service : names(services)) {
            environment(service).forEach((variable, value) -> {
                if (SECRET_NAME.matcher(variable).matches()) {
                    assertThat(variable)
                            .as(service + ": a secret only as a file")
                            .endsWith("_FILE");
                }
                assertThat(value).as("%s %s", service, variable).doesNotContainPattern(URL_PASSWORD);
                assertThat(looksRandom(value))
                        .as("%s %s=%s", service, variable, value)
                        .isFalse();
            });
            for (String argument : list(services.path(service).path("command"))) {
                assertThat(argument).as(service).doesNotContainPattern(URL_PASSWORD);
                assertThat(looksRandom(argument)).as("%s %s", service, argument).isFalse();
            }
        }
    }

    @Test
    void migrateRunsAsTheOwnerAndGrantsTheLoginThatEveryWorkerRunsAsWithoutMigrating() throws IOException {
        Map<String, String> postgres = environment("postgres");
        Map<String, String> migrate = environment("migrate");
        List<String> command = list(services.path("migrate").path("command"));
        assertThat(command).hasSize(3).startsWith("migrate", "--worker-login");
        String login = command.get(2);

        assertThat(user(migrate.get("DATABASE_URL"))).isEqualTo(postgres.get("POSTGRES_USER"));
        assertThat(migrate.get("DATABASE_PASSWORD_FILE")).isEqualTo(postgres.get("POSTGRES_PASSWORD_FILE"));
        // The login the init script creates on the volume's first start, from its own secret.
        assertThat(postgres.get("WORKER_LOGIN")).isEqualTo(login);
        assertThat(login).doesNotStartWith("ragline_").isNotEqualTo(postgres.get("POSTGRES_USER"));
        assertThat(list(services.path("postgres").path("volumes")))
                .contains("./deploy/compose/10-worker-login.sh:/docker-entrypoint-initdb.d/10-worker-login.sh:ro");
        assertThat(Files.readString(root.resolve("deploy/compose/10-worker-login.sh")))
                .contains("WORKER_LOGIN")
                .contains("WORKER_PASSWORD_FILE");

        for (String worker : WORKERS) {
            Map<String, String> env = environment(worker);
            assertThat(user(env.get("DATABASE_URL"))).as(worker).isEqualTo(login);
            assertThat(URI.create(env.get("DATABASE_URL")).getHost()).as(worker).isEqualTo("postgres");
            assertThat(env.get("DATABASE_PASSWORD_FILE")).as(worker).isEqualTo(postgres.get("WORKER_PASSWORD_FILE"));
            assertThat(env.get("RAGLINE_MIGRATE_ON_START")).as(worker).isEqualTo("false");
            assertThat(env.get("KAFKA_BOOTSTRAP_SERVERS")).as(worker).isEqualTo("kafka:19092");
        }
        assertThat(environment("kafka").get("KAFKA_ADVERTISED_LISTENERS")).contains("INTERNAL://kafka:19092");
        assertThat(environment("kafka").get("KAFKA_LISTENERS")).contains("INTERNAL://:19092");
    }

    @Test
    void theWorkersWaitForHealthyServicesAndACompletedMigration() {
        for (String worker : WORKERS) {
            JsonNode dependsOn = services.path(worker).path("depends_on");
            assertThat(names(dependsOn)).as(worker).containsExactlyInAnyOrder("postgres", "kafka", "migrate");
            assertThat(dependsOn.path("postgres").path("condition").asText()).isEqualTo("service_healthy");
            assertThat(dependsOn.path("kafka").path("condition").asText()).isEqualTo("service_healthy");
            assertThat(dependsOn.path("migrate").path("condition").asText())
                    .isEqualTo("service_completed_successfully");
            // Their health is the image's HEALTHCHECK: not switched off here.
            assertThat(services.path(worker).path("healthcheck").path("disable").asBoolean())
                    .as(worker)
                    .isFalse();
        }
        JsonNode migrate = services.path("migrate");
        assertThat(names(migrate.path("depends_on"))).containsExactly("postgres");
        assertThat(migrate.path("depends_on").path("postgres").path("condition").asText())
                .isEqualTo("service_healthy");
        assertThat(migrate.path("restart").isMissingNode())
                .as("a one-shot service")
                .isTrue();
        for (String service : List.of("postgres", "kafka")) {
            assertThat(list(services.path(service).path("healthcheck").path("test")))
                    .as(service)
                    .isNotEmpty();
            assertThat(services.path(service).has("depends_on")).as(service).isFalse();
        }
    }

    @Test
    void everyPublishedPortIsBoundToLoopbackAndTheEmbeddingWorkerHasNoFixedHostPort() {
        for (String service : names(services)) {
            for (String port : list(services.path(service).path("ports"))) {
                // 127.0.0.1:HOST:CONTAINER, HOST a number, ${VARIABLE:-number} or nothing (any free port).
                assertThat(port).as(service).matches("127\\.0\\.0\\.1:(\\d+|\\$\\{[A-Z_]+:-\\d+\\}|):\\d+");
            }
            assertThat(services.path(service).has("network_mode")).as(service).isFalse();
        }
        List<String> embedding = list(services.path("embedding-worker").path("ports"));
        assertThat(embedding).isNotEmpty().allMatch(p -> p.startsWith("127.0.0.1::"), "no host port: scalable");
        assertThat(services.path("embedding-worker").has("container_name")).isFalse();
    }

    @Test
    void composeItselfAcceptsTheFile() {
        List<String> argv = composeCommand();
        Assumptions.assumeTrue(
                argv != null,
                "neither the compose plugin (`docker compose`) nor docker-compose is installed: `./ragline test`"
                        + " installs Debian's docker-compose where apt-get may; the strict checks above still ran");
        List<String> config = new ArrayList<>(argv);
        config.addAll(List.of("-f", root.resolve("docker-compose.yml").toString(), "config", "-q"));

        Command.Result result =
                Command.of(config).in(root).timeout(Duration.ofMinutes(1)).tryRun();

        assertThat(result.exitCode())
                .as(String.join(" ", config) + "\n" + result.output())
                .isZero();
    }

    /** {@code docker compose} when the plugin answers, else {@code docker-compose}, else null. */
    private static List<String> composeCommand() {
        if (Command.onPath("docker")
                && Command.of("docker", "compose", "version")
                                .timeout(Duration.ofSeconds(30))
                                .tryRun()
                                .exitCode()
                        == 0) {
            return List.of("docker", "compose");
        }
        return Command.onPath("docker-compose") ? List.of("docker-compose") : null;
    }

    /**
     * The variables of every README table headed {@code | variable | default | meaning |}, a row such
     * as {@code RAGLINE_WEBHOOK_<SOURCE>_SECRET_FILE} standing for every name of its form.
     */
    private static List<Pattern> readmeVariables() throws IOException {
        List<Pattern> variables = new ArrayList<>();
        boolean inTable = false;
        Pattern row = Pattern.compile("^\\| `([A-Z][A-Z0-9_]*(?:<[A-Z]+>[A-Z0-9_]*)*)` \\|");
        for (String line : Files.readAllLines(root.resolve("README.md"))) {
            if (line.replace(" ", "").equals("|variable|default|meaning|")) {
                inTable = true;
                continue;
            }
            if (!line.startsWith("|")) {
                inTable = false;
            }
            Matcher m = row.matcher(line);
            if (inTable && m.find()) {
                String regex =
                        Pattern.quote(m.group(1)).replaceAll("<[A-Z]+>", Matcher.quoteReplacement("\\E[A-Z0-9_]+\\Q"));
                variables.add(Pattern.compile(regex));
            }
        }
        return variables;
    }

    private static Set<String> raglineServices() {
        return names(services).stream()
                .filter(s -> services.path(s).path("image").asText().equals(IMAGE))
                .collect(Collectors.toCollection(LinkedHashSet::new));
    }

    private static Map<String, String> environment(String service) {
        JsonNode env = services.path(service).path("environment");
        assertThat(env.isMissingNode() || env.isObject())
                .as(service + ": environment as a map")
                .isTrue();
        Map<String, String> values = new LinkedHashMap<>();
        env.properties().forEach(e -> values.put(e.getKey(), e.getValue().asText()));
        return values;
    }

    private static List<String> list(JsonNode node) {
        List<String> values = new ArrayList<>();
        node.forEach(n -> values.add(n.asText()));
        return values;
    }

    private static Set<String> names(JsonNode node) {
        Set<String> names = new LinkedHashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String user(String url) {
        String userInfo = URI.create(url).getUserInfo();
        assertThat(userInfo).as(url).doesNotContain(":");
        return userInfo;
    }

    /** A long run of token characters mixing letters and digits (a password, a token, a key); not a path. */
    private static boolean looksRandom(String value) {
        if (value.startsWith("/")) {
            return false;
        }
        Matcher m = RANDOM_LOOKING.matcher(value);
        while (m.find()) {
            String run = m.group();
            if (run.matches(".*[0-9].*") && run.matches(".*[A-Za-z].*")) {
                return true;
            }
        }
        return false;
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !(Files.exists(dir.resolve("docker-compose.yml")) && Files.exists(dir.resolve("mvnw")))) {
            dir = dir.getParent();
        }
        assertThat(dir)
                .as("the repository root above " + Path.of("").toAbsolutePath())
                .isNotNull();
        return dir;
    }
}
