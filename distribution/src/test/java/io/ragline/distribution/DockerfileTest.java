package io.ragline.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.cli.HealthCommand;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.ingest.IngestWorker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The repository's {@code Dockerfile}, checked for what can be checked without a Docker engine
 * (none runs here, so the image itself is never built by the tests).
 */
class DockerfileTest {
    static final String JAR = "/opt/ragline/lib/ragline-cli.jar";
    private static Path repository;
    private static Dockerfile dockerfile;
    private static Dockerfile.Stage run;

    @BeforeAll
    static void parse() throws Exception {
        repository = Path.of(System.getProperty("ragline.repository", ".."));
        dockerfile = Dockerfile.parse(Files.readString(repository.resolve("Dockerfile")));
        run = dockerfile.finalStage();
    }

    @Test
    void theImageRunsOnAJava21RuntimeWithoutAShell() {
        assertThat(dockerfile.stages()).hasSize(2);
        assertThat(run.base()).isEqualTo("gcr.io/distroless/java21-debian13:nonroot");
    }

    @Test
    void theEntrypointRunsTheDistributionsLauncherJarInExecForm() {
        List<String> entrypoint = run.last("ENTRYPOINT").orElseThrow().exec().orElseThrow();

        assertThat(entrypoint.get(0)).isEqualTo("java");
        assertThat(entrypoint.subList(entrypoint.size() - 2, entrypoint.size())).containsExactly("-jar", JAR);
        assertThat(run.last("CMD").orElseThrow().exec()).as("CMD in exec form").isPresent();
    }

    @Test
    void theLauncherJarIsWhereTheCopyOfTheUnpackedDistributionPutsIt() throws Exception {
        // Final stage: COPY --from=<build stage> /opt/ragline /opt/ragline.
        Dockerfile.Instruction copy = run.all("COPY").stream()
                .filter(c -> c.flags().containsKey("from"))
                .findFirst()
                .orElseThrow();
        String[] paths = copy.arguments().split("\\s+");
        assertThat(paths).containsExactly("/opt/ragline", "/opt/ragline");
        // Build stage: the tarball's one top directory stripped, unpacked into /opt/ragline.
        Dockerfile.Stage build = dockerfile.stage(copy.flags().get("from")).orElseThrow();
        assertThat(build.all("RUN"))
                .anySatisfy(r -> assertThat(r.arguments())
                        .contains("tar -xzf distribution/target/ragline-*.tar.gz --strip-components=1 -C " + paths[0]));
        // The distribution's assembly puts the launcher at lib/ragline-cli.jar.
        assertThat(paths[1] + "/" + launcherInTheAssembly()).isEqualTo(JAR);
    }

    @Test
    void theBuildStageBuildsTheDistributionWithTheMavenWrapperOnAJdk21() {
        Dockerfile.Stage build = dockerfile.stages().get(0);

        assertThat(build.base()).startsWith("eclipse-temurin:21-jdk");
        assertThat(build.all("RUN"))
                .anySatisfy(
                        r -> assertThat(r.arguments()).contains("./mvnw -B -DskipTests package -pl distribution -am"));
    }

    @Test
    void theUserIsNeitherRootNorUid0() {
        String user = run.last("USER").orElseThrow().arguments().split(":")[0];

        assertThat(user).isNotIn("root", "0").matches("[0-9]+");
    }

    @Test
    void theExposedPortsAreTheDefaultPortsOfTheProcesses() {
        Set<Integer> exposed = new TreeSet<>();
        run.all("EXPOSE").forEach(e -> {
            for (String port : e.arguments().split("\\s+")) {
                exposed.add(Integer.parseInt(port.replaceFirst("/tcp$", "")));
            }
        });
        Set<Integer> defaults = new TreeSet<>(HealthCommand.defaultAdminPorts());
        defaults.add(IngestWorker.DEFAULT_HTTP_PORT);
        defaults.add(EmbeddingWorker.DEFAULT_HTTP_PORT);
        defaults.add(io.ragline.console.Console.DEFAULT_HTTP_PORT);

        assertThat(exposed).isEqualTo(defaults);
    }

    @Test
    void theHealthcheckRunsTheHealthCommandInExecForm() {
        List<String> command =
                run.last("HEALTHCHECK").orElseThrow().healthcheckExec().orElseThrow();

        assertThat(command.get(0)).isEqualTo("java");
        assertThat(command.subList(command.size() - 3, command.size())).containsExactly("-jar", JAR, "health");
    }

    @Test
    void nothingTheFinalStageRunsNeedsAShell() {
        assertThat(run.all("RUN"))
                .allSatisfy(r -> assertThat(r.exec())
                        .as("line %d: shell form needs /bin/sh", r.line())
                        .isPresent());
        for (String keyword : List.of("ENTRYPOINT", "CMD")) {
            assertThat(run.all(keyword)).allSatisfy(i -> assertThat(i.exec()).isPresent());
        }
        assertThat(run.all("HEALTHCHECK"))
                .allSatisfy(i -> assertThat(i.healthcheckExec()).isPresent());
    }

    @Test
    void theImageCarriesTheOciLabelsWithTheVersionOfTheBuildArgument() {
        java.util.Map<String, String> labels = new java.util.HashMap<>();
        run.all("LABEL").forEach(l -> labels.putAll(l.pairs()));

        assertThat(labels)
                .containsEntry("org.opencontainers.image.title", "ragline")
                .containsEntry("org.opencontainers.image.version", "${VERSION}")
                .containsKeys("org.opencontainers.image.description", "org.opencontainers.image.source")
                .doesNotContainKey("org.opencontainers.image.licenses"); // the repository declares none
        assertThat(run.all("ARG")).anySatisfy(a -> assertThat(a.arguments()).startsWith("VERSION="));
    }

    @Test
    void theBuildContextLeavesOutBuildOutputLocalStateAndSecretsButKeepsTheMavenWrapper() throws Exception {
        List<String> ignored = Files.readAllLines(repository.resolve(".dockerignore")).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();

        // secrets/: the compose stack's secret files (ComposeSecrets) must never enter an image layer.
        assertThat(ignored).contains("**/target/", ".ragline/", ".env", "secrets/", ".git/");
        assertThat(ignored).noneMatch(l -> l.contains("mvnw") || l.startsWith(".mvn") || l.equals("*"));
    }

    @Test
    void theParserJoinsContinuedLinesSkipsCommentsInsideThemAndTellsExecFromShellForm() {
        Dockerfile parsed = Dockerfile.parse(String.join(
                "\n",
                "# syntax=docker/dockerfile:1",
                "ARG BASE=x",
                "FROM a:1 AS one",
                "RUN --mount=type=cache,target=/root/.m2 echo a \\",
                "# a comment inside",
                "    && echo b",
                "FROM b:2",
                "LABEL k=\"v w\" \\",
                "      j=plain",
                "HEALTHCHECK --interval=5s CMD [\"java\", \"-jar\", \"x.jar\"]",
                "CMD [\"a\", 1]",
                "ENTRYPOINT [\"java\"]"));

        assertThat(parsed.stages()).extracting(Dockerfile.Stage::base).containsExactly("a:1", "b:2");
        Dockerfile.Instruction run =
                parsed.stage("one").orElseThrow().all("RUN").get(0);
        assertThat(run.flags()).containsEntry("mount", "type=cache,target=/root/.m2");
        assertThat(run.arguments()).isEqualTo("echo a  && echo b");
        assertThat(run.exec()).isEmpty();
        Dockerfile.Stage second = parsed.finalStage();
        assertThat(second.last("LABEL").orElseThrow().pairs())
                .containsEntry("k", "v w")
                .containsEntry("j", "plain");
        assertThat(second.last("HEALTHCHECK").orElseThrow().healthcheckExec())
                .contains(List.of("java", "-jar", "x.jar"));
        assertThat(second.last("CMD").orElseThrow().exec())
                .as("a number is no exec form")
                .isEmpty();
        assertThat(second.last("ENTRYPOINT").orElseThrow().exec()).contains(List.of("java"));
        assertThatThrownBy(() -> Dockerfile.parse("RUN echo\nFROM x")).hasMessageContaining("before FROM");
    }

    /** {@code lib/ragline-cli.jar}: the destination of the launcher jar in the assembly descriptor. */
    private static String launcherInTheAssembly() throws Exception {
        Element assembly = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(Path.of("src/assembly/distribution.xml").toFile())
                .getDocumentElement();
        NodeList files = assembly.getElementsByTagName("file");
        for (int i = 0; i < files.getLength(); i++) {
            Element file = (Element) files.item(i);
            String source = text(file, "source");
            if (source.endsWith("${project.build.finalName}.jar")) {
                return text(file, "outputDirectory") + "/" + text(file, "destName");
            }
        }
        throw new AssertionError("the assembly copies no launcher jar");
    }

    private static String text(Element parent, String tag) {
        return parent.getElementsByTagName(tag).item(0).getTextContent().strip();
    }
}
