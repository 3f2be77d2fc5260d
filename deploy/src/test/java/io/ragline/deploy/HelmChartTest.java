package io.ragline.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.ragline.cli.Processes;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.ingest.IngestWorker;
import io.ragline.ingest.webhook.WebhookSettings;
import io.ragline.training.TrainingWorker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Helm chart, linted and rendered by Helm for its three values files, every object parsed
 * strictly, and held to the code: the variables each worker reads, the ports and paths it serves,
 * the consumer group it joins, and the security and availability the chart promises.
 */
class HelmChartTest {
    static final List<String> WORKERS =
            List.of(IngestWorker.NAME, EmbeddingWorker.NAME, TrainingWorker.NAME, EventDispatcher.NAME);

    /** Each values file as an operator would install it; the default one needs the test's required values. */
    static final Map<String, List<Path>> VALUES = Map.of(
            "default", List.of(Chart.TEST_VALUES),
            "staging", List.of(Chart.STAGING),
            "production", List.of(Chart.PRODUCTION));

    static final Map<String, Rendered> RENDERED = new LinkedHashMap<>();

    @BeforeAll
    static void render() {
        VALUES.forEach((name, files) -> RENDERED.put(name, Chart.template(files, Map.of())));
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "staging", "production"})
    void theChartLintsCleanInStrictModeWithEachValuesFile(String values, @TempDir Path scratch) {
        List<Path> files = new ArrayList<>(List.of(Chart.DEFAULT));
        files.addAll(VALUES.get(values));
        LintResult lint = Chart.lint(scratch, files.toArray(Path[]::new));

        assertThat(lint.isFailed()).as("%s", lint.getMessages()).isFalse();
    }

    /**
     * Lint renders every template (a broken one fails it); Helm's lint mode lets {@code required}
     * and {@code fail} pass with a note, so the chart's own refusals are tested with template.
     */
    @Test
    void lintFailsWhenATemplateCannotRender(@TempDir Path scratch) throws Exception {
        Path broken = scratch.resolve("no-budget-settings.yaml");
        Files.writeString(broken, "workers:\n  training-worker:\n    pdb: 1\n");

        LintResult lint = Chart.lint(scratch, Chart.DEFAULT, Chart.TEST_VALUES, broken);

        assertThat(lint.isFailed()).isTrue();
        assertThat(String.join("\n", lint.getMessages())).contains("templates/pdb.yaml");
    }

    @Test
    void eachValuesFileRendersEveryWorkerAndTheMigrationJob() {
        RENDERED.forEach((values, chart) -> {
            assertThat(chart.all(Deployment.class))
                    .as(values)
                    .extracting(d -> d.getSpec()
                            .getTemplate()
                            .getSpec()
                            .getContainers()
                            .get(0)
                            .getArgs())
                    .containsExactlyInAnyOrderElementsOf(
                            WORKERS.stream().map(List::of).toList());
            assertThat(chart.named(Job.class, Chart.FULLNAME + "-migrate"))
                    .as(values)
                    .isNotNull();
        });
    }

    @Test
    void aFieldTheKubernetesModelDoesNotKnowFailsTheParse() {
        String misspelt = """
                apiVersion: v1
                kind: Service
                metadata: {name: x}
                spec:
                  selectr: {app: x}
                """;

        assertThatThrownBy(() -> Rendered.parse(misspelt))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("v1/Service x.spec has fields the Kubernetes model does not know: [selectr]");
    }

    @Test
    void everyVariableTheChartSetsIsOneTheWorkerReadsAndTheWorkerAcceptsThemAll(@TempDir Path dir) {
        RENDERED.forEach((values, chart) -> {
            for (String worker : WORKERS) {
                PodSpec pod = chart.deployment(worker).getSpec().getTemplate().getSpec();
                Container container = pod.getContainers().get(0);
                Map<String, String> rendered = WorkerEnvironment.rendered(chart, pod, container);
                Env env = WorkerEnvironment.resolved(chart, pod, container, dir);
                Processes.Process process = Processes.named(worker);

                CoreSettings.from(env, process.defaultAdminPort());
                process.wiring().apply(env); // reads the worker's own settings; connects to nothing

                assertThat(env.problems()).as("%s %s", values, worker).isEmpty();
                assertThat(notRead(rendered.keySet(), env))
                        .as("%s %s: variables the chart sets that no code of the process reads", values, worker)
                        .isEmpty();
            }
        });
    }

    @Test
    void theMigrationJobSetsOnlyWhatMigrateReads(@TempDir Path dir) {
        RENDERED.forEach((values, chart) -> {
            PodSpec pod = chart.named(Job.class, Chart.FULLNAME + "-migrate")
                    .getSpec()
                    .getTemplate()
                    .getSpec();
            Container container = pod.getContainers().get(0);
            Env env = WorkerEnvironment.resolved(chart, pod, container, dir);

            // ragline migrate reads the database and the schema, nothing else (MigrateCommand)
            DatabaseUrl url = DatabaseUrl.from(env);
            env.string(CoreSettings.SCHEMA, CoreSettings.DEFAULT_SCHEMA);

            assertThat(env.problems()).as(values).isEmpty();
            assertThat(url.user()).as(values).isNotEqualTo(workerLogin(chart));
            assertThat(notRead(WorkerEnvironment.rendered(chart, pod, container).keySet(), env))
                    .as(values)
                    .isEmpty();
            assertThat(WorkerEnvironment.rendered(chart, pod, container))
                    .as(values)
                    .containsOnlyKeys(
                            CoreSettings.DATABASE_URL,
                            CoreSettings.DATABASE_PASSWORD + Env.FILE_SUFFIX,
                            CoreSettings.SCHEMA);
        });
    }

    @Test
    void everyProbeTargetsAPathTheAdminServerServesOnThePortTheWorkerListensOn(@TempDir Path dir) throws Exception {
        try (AdminEndpoints admin = AdminEndpoints.start()) {
            RENDERED.forEach((values, chart) -> {
                for (String worker : WORKERS) {
                    PodSpec pod =
                            chart.deployment(worker).getSpec().getTemplate().getSpec();
                    Container c = pod.getContainers().get(0);
                    Env env = WorkerEnvironment.resolved(chart, pod, c, dir);
                    int adminPort = CoreSettings.from(
                                    env, Processes.named(worker).defaultAdminPort())
                            .adminPort();
                    String what = values + " " + worker;

                    assertThat(port(c, "admin")).as(what).isEqualTo(adminPort);
                    for (Probe probe : List.of(c.getStartupProbe(), c.getLivenessProbe(), c.getReadinessProbe())) {
                        HTTPGetAction get = probe.getHttpGet();
                        int target = get.getPort().getStrVal() != null
                                ? port(c, get.getPort().getStrVal())
                                : get.getPort().getIntVal();
                        assertThat(target).as(what).isEqualTo(adminPort);
                        assertThat(admin.status(get.getPath()))
                                .as(what + " " + get.getPath())
                                .isEqualTo(200);
                    }
                    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/health/live");
                    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/ready");
                }
            });
        }
    }

    @Test
    void theHttpPortsAreTheOnesTheWorkersServeAndTheServicesRouteToThem(@TempDir Path dir) {
        RENDERED.forEach((values, chart) -> {
            Map<String, String> services = Map.of(IngestWorker.NAME, "webhooks", EmbeddingWorker.NAME, "search");
            services.forEach((worker, service) -> {
                PodSpec pod = chart.deployment(worker).getSpec().getTemplate().getSpec();
                Container c = pod.getContainers().get(0);
                Env env = WorkerEnvironment.resolved(chart, pod, c, dir);
                int defaultPort = worker.equals(IngestWorker.NAME)
                        ? IngestWorker.DEFAULT_HTTP_PORT
                        : EmbeddingWorker.DEFAULT_HTTP_PORT;
                int served = env.port(WebhookSettings.HTTP_PORT, defaultPort);
                Service svc = chart.named(Service.class, Chart.FULLNAME + "-" + service);

                assertThat(port(c, "http")).as(values + " " + worker).isEqualTo(served);
                assertThat(svc.getSpec().getSelector())
                        .as(values + " " + service)
                        .isEqualTo(
                                chart.deployment(worker).getSpec().getSelector().getMatchLabels());
                assertThat(svc.getSpec().getPorts().get(0).getTargetPort().getStrVal())
                        .isEqualTo("http");
            });
        });
    }

    @Test
    void noSecretValueAppearsInAnyRenderedObjectButTheSecrets() throws Exception {
        Map<String, Object> test = new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                .readValue(Chart.TEST_VALUES.toFile(), Map.class);
        List<String> sentinels = new ArrayList<>(secretValues(test));
        assertThat(sentinels).hasSizeGreaterThan(6);
        ObjectMapper json = new ObjectMapper();
        for (List<Path> files : List.of(List.of(Chart.TEST_VALUES), List.of(Chart.PRODUCTION, Chart.TEST_VALUES))) {
            Rendered chart = Chart.template(files, Map.of());
            List<String> secretsData = chart.all(Secret.class).stream()
                    .flatMap(s -> s.getData().values().stream())
                    .map(v -> new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8))
                    .toList();
            assertThat(String.join("\n", secretsData))
                    .as("the sentinels are in the Secrets")
                    .contains(sentinels);

            for (HasMetadata o : chart.objects()) {
                if (o instanceof Secret) {
                    continue;
                }
                String text = json.writeValueAsString(o);
                for (String s : sentinels) {
                    assertThat(text)
                            .as("%s %s", o.getKind(), o.getMetadata().getName())
                            .doesNotContain(s)
                            .doesNotContain(Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8)));
                }
            }
            for (JsonNode custom : chart.customResources()) {
                sentinels.forEach(s -> assertThat(custom.toString()).doesNotContain(s));
            }
        }
    }

    @Test
    void theDispatcherRunsALeaderAndAStandbyInEveryValuesFile() {
        RENDERED.forEach((values, chart) -> assertThat(
                        chart.deployment(EventDispatcher.NAME).getSpec().getReplicas())
                .as(values)
                .isGreaterThanOrEqualTo(2));
    }

    @Test
    void aSingleDispatcherIsRefusedUnlessExplicitlyAllowed() {
        assertThatThrownBy(() ->
                        Chart.template(List.of(Chart.TEST_VALUES), Map.of("workers.event-dispatcher.replicas", 1)))
                .hasMessageContaining("workers.event-dispatcher.replicas must be at least 2");

        Rendered allowed = Chart.template(
                List.of(Chart.TEST_VALUES),
                Map.of("workers.event-dispatcher.replicas", 1, "workers.event-dispatcher.allowSingleReplica", true));
        assertThat(allowed.deployment(EventDispatcher.NAME).getSpec().getReplicas())
                .isEqualTo(1);
    }

    @Test
    void everyPodRunsAsNonRootOnAReadOnlyRootWithNoCapabilitiesAndAWritableTmp() {
        RENDERED.forEach((values, chart) -> {
            List<PodSpec> pods = new ArrayList<>();
            chart.all(Deployment.class)
                    .forEach(d -> pods.add(d.getSpec().getTemplate().getSpec()));
            chart.all(Job.class).forEach(j -> pods.add(j.getSpec().getTemplate().getSpec()));
            for (PodSpec pod : pods) {
                PodSecurityContext p = pod.getSecurityContext();
                assertThat(p.getRunAsNonRoot()).isTrue();
                assertThat(p.getRunAsUser()).isEqualTo(65532L);
                assertThat(p.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
                assertThat(pod.getAutomountServiceAccountToken()).isFalse();
                for (Container c : pod.getContainers()) {
                    SecurityContext s = c.getSecurityContext();
                    assertThat(s.getRunAsNonRoot())
                            .as(values + " " + c.getName())
                            .isTrue();
                    assertThat(s.getReadOnlyRootFilesystem()).isTrue();
                    assertThat(s.getAllowPrivilegeEscalation()).isFalse();
                    assertThat(s.getCapabilities().getDrop()).containsExactly("ALL");
                    assertThat(s.getCapabilities().getAdd()).isNullOrEmpty();
                    String tmpVolume = c.getVolumeMounts().stream()
                            .filter(m -> m.getMountPath().equals("/tmp"))
                            .findFirst()
                            .orElseThrow()
                            .getName();
                    assertThat(pod.getVolumes())
                            .filteredOn(v -> v.getName().equals(tmpVolume))
                            .singleElement()
                            .satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());
                }
            }
        });
    }

    @Test
    void theKubeletWaitsLongerThanTheShutdownTimeoutBeforeKilling(@TempDir Path dir) {
        RENDERED.forEach((values, chart) -> {
            for (String worker : WORKERS) {
                PodSpec pod = chart.deployment(worker).getSpec().getTemplate().getSpec();
                Env env = WorkerEnvironment.resolved(
                        chart, pod, pod.getContainers().get(0), dir);
                long shutdown = env.duration(CoreSettings.SHUTDOWN_TIMEOUT, CoreSettings.DEFAULT_SHUTDOWN_TIMEOUT)
                        .toSeconds();

                assertThat(pod.getTerminationGracePeriodSeconds())
                        .as(values + " " + worker)
                        .isGreaterThan(shutdown);
            }
        });
    }

    @Test
    void theMigrationJobRunsAsAPreInstallAndPreUpgradeHookAfterItsSecret() {
        RENDERED.forEach((values, chart) -> {
            Job job = chart.named(Job.class, Chart.FULLNAME + "-migrate");
            Map<String, String> hook = job.getMetadata().getAnnotations();
            Container c = job.getSpec().getTemplate().getSpec().getContainers().get(0);

            assertThat(Set.of(hook.get("helm.sh/hook").split(",")))
                    .as(values)
                    .isEqualTo(Set.of("pre-install", "pre-upgrade"));
            assertThat(c.getArgs()).containsExactly("migrate", "--worker-login", workerLogin(chart));
            String secretName = job.getSpec().getTemplate().getSpec().getVolumes().stream()
                    .filter(v -> v.getSecret() != null)
                    .findFirst()
                    .orElseThrow()
                    .getSecret()
                    .getSecretName();
            chart.find(Secret.class, secretName).ifPresent(secret -> {
                // a Secret of the chart's own must be a hook too, with a lower weight, or it would not exist yet
                Map<String, String> a = secret.getMetadata().getAnnotations();
                assertThat(a.get("helm.sh/hook")).isEqualTo(hook.get("helm.sh/hook"));
                assertThat(Integer.parseInt(a.get("helm.sh/hook-weight")))
                        .isLessThan(Integer.parseInt(hook.get("helm.sh/hook-weight")));
            });
        });
    }

    @Test
    void theWorkersRunAsTheLoginTheJobGrantsWithoutMigrating(@TempDir Path dir) {
        RENDERED.forEach((values, chart) -> {
            for (String worker : WORKERS) {
                PodSpec pod = chart.deployment(worker).getSpec().getTemplate().getSpec();
                Env env = WorkerEnvironment.resolved(
                        chart, pod, pod.getContainers().get(0), dir);
                CoreSettings settings = CoreSettings.from(env, 0);

                assertThat(settings.migrateOnStart()).as(values + " " + worker).isFalse();
                assertThat(settings.database().user()).isEqualTo(workerLogin(chart));
            }
        });
    }

    @Test
    void theAutoscalersTargetTheEmbeddingWorkerAndKedaWatchesItsConsumerGroup(@TempDir Path dir) {
        String target = Chart.FULLNAME + "-" + EmbeddingWorker.NAME;
        HorizontalPodAutoscaler hpa = RENDERED.get("default").named(HorizontalPodAutoscaler.class, target);
        assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
        assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo(target);
        assertThat(RENDERED.get("default")
                        .deployment(EmbeddingWorker.NAME)
                        .getSpec()
                        .getReplicas())
                .as("the autoscaler owns the count")
                .isNull();

        Rendered production = RENDERED.get("production");
        assertThat(production.all(HorizontalPodAutoscaler.class))
                .as("KEDA makes its own")
                .isEmpty();
        JsonNode scaled = production.custom(Rendered.SCALED_OBJECT).get(0);
        assertThat(fieldNames(scaled.path("spec")))
                .containsExactlyInAnyOrder(
                        "scaleTargetRef",
                        "minReplicaCount",
                        "maxReplicaCount",
                        "pollingInterval",
                        "cooldownPeriod",
                        "triggers");
        assertThat(scaled.at("/spec/scaleTargetRef/kind").asText()).isEqualTo("Deployment");
        assertThat(scaled.at("/spec/scaleTargetRef/name").asText()).isEqualTo(target);
        JsonNode trigger = scaled.at("/spec/triggers/0");
        assertThat(trigger.path("type").asText()).isEqualTo("kafka");

        PodSpec pod = production
                .deployment(EmbeddingWorker.NAME)
                .getSpec()
                .getTemplate()
                .getSpec();
        Env env =
                WorkerEnvironment.resolved(production, pod, pod.getContainers().get(0), dir);
        CoreSettings settings = CoreSettings.from(env, EmbeddingWorker.DEFAULT_ADMIN_PORT);
        KafkaSettings kafka = settings.kafka();
        JsonNode meta = trigger.path("metadata");
        // the group BindingLoops names the embedding-worker's consumers, the topic they read
        assertThat(meta.path("consumerGroup").asText())
                .isEqualTo(kafka.groupPrefix() + "-" + EmbeddingWorker.EMBEDDING_REQUESTS);
        assertThat(meta.path("topic").asText()).isEqualTo(settings.topic(EmbeddingWorker.EMBEDDING_REQUESTS));
        assertThat(meta.path("bootstrapServers").asText()).isEqualTo(settings.kafkaBootstrapServers());
        assertThat(trigger.at("/authenticationRef/name").asText()).isNotBlank();
    }

    @Test
    void theServiceMonitorScrapesTheAdminPortOfEveryWorker() throws Exception {
        try (AdminEndpoints admin = AdminEndpoints.start()) {
            for (String values : List.of("staging", "production")) {
                Rendered chart = RENDERED.get(values);
                JsonNode monitor = chart.custom(Rendered.SERVICE_MONITOR).get(0);
                assertThat(fieldNames(monitor.path("spec"))).containsExactlyInAnyOrder("selector", "endpoints");
                JsonNode endpoint = monitor.at("/spec/endpoints/0");
                assertThat(fieldNames(endpoint)).containsExactlyInAnyOrder("port", "path", "interval");
                Service service = chart.all(Service.class).stream()
                        .filter(s -> labelsMatch(monitor.at("/spec/selector/matchLabels"), s))
                        .collect(java.util.stream.Collectors.collectingAndThen(
                                java.util.stream.Collectors.toList(), l -> {
                                    assertThat(l).as(values).hasSize(1);
                                    return l.get(0);
                                }));
                assertThat(service.getSpec().getPorts())
                        .filteredOn(
                                p -> p.getName().equals(endpoint.path("port").asText()))
                        .singleElement()
                        .satisfies(
                                p -> assertThat(p.getTargetPort().getStrVal()).isEqualTo("admin"));
                assertThat(admin.status(endpoint.path("path").asText())).isEqualTo(200);
                for (String worker : WORKERS) {
                    Map<String, String> pod = chart.deployment(worker)
                            .getSpec()
                            .getTemplate()
                            .getMetadata()
                            .getLabels();
                    assertThat(pod)
                            .as(worker)
                            .containsAllEntriesOf(service.getSpec().getSelector());
                }
            }
        }
    }

    @Test
    void disruptionBudgetsCoverTheWorkersRunningSeveralReplicas() {
        RENDERED.forEach((values, chart) -> {
            for (String worker : List.of(IngestWorker.NAME, EmbeddingWorker.NAME, EventDispatcher.NAME)) {
                PodDisruptionBudget pdb = chart.named(PodDisruptionBudget.class, Chart.FULLNAME + "-" + worker);
                assertThat(pdb.getSpec().getSelector().getMatchLabels())
                        .as(values + " " + worker)
                        .isEqualTo(
                                chart.deployment(worker).getSpec().getSelector().getMatchLabels());
            }
        });
    }

    @Test
    void eachWorkerGetsAConfigMapOfItsOwnWithNoFileVariable() {
        RENDERED.forEach((values, chart) -> {
            for (ConfigMap cm : chart.all(ConfigMap.class)) {
                assertThat(cm.getData().keySet())
                        .as(values + " " + cm.getMetadata().getName())
                        .noneMatch(k -> k.endsWith(Env.FILE_SUFFIX));
            }
        });
    }

    private static Set<String> notRead(Set<String> set, Env env) {
        Set<String> unread = new java.util.TreeSet<>(set);
        unread.removeAll(env.asked());
        return unread;
    }

    private static String workerLogin(Rendered chart) {
        ConfigMap cm = chart.named(ConfigMap.class, Chart.FULLNAME + "-" + IngestWorker.NAME);
        Env env = new Env(cm.getData());
        return Objects.requireNonNull(CoreSettings.from(env, 0)).database().user();
    }

    private static int port(Container c, String name) {
        return c.getPorts().stream()
                .filter(p -> name.equals(p.getName()))
                .map(ContainerPort::getContainerPort)
                .findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " has no port named " + name));
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static boolean labelsMatch(JsonNode matchLabels, Service s) {
        Map<String, String> labels = s.getMetadata().getLabels();
        List<String> keys = fieldNames(matchLabels);
        return keys.stream().allMatch(k -> matchLabels.path(k).asText().equals(labels.get(k)));
    }

    @SuppressWarnings("unchecked")
    private static List<String> secretValues(Map<String, Object> values) {
        Map<String, Object> secrets = (Map<String, Object>) values.get("secrets");
        List<String> found = new ArrayList<>();
        ((Map<String, Object>) secrets.get("values"))
                .values()
                .forEach(v -> found.add(v.toString().strip()));
        found.add(((Map<String, Object>) secrets.get("migration"))
                .get("ownerPassword")
                .toString());
        // the password inside the Kafka properties file, on its own
        found.add("SENTINEL-kafka-password-44d2");
        return found;
    }
}
