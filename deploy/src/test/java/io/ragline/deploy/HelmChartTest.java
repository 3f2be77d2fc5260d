package io.ragline.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.ragline.core.config.Env;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.ingest.IngestWorker;
import io.ragline.ingest.webhook.WebhookSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Helm chart linted and rendered by Helm for its three values files, every object parsed
 * strictly: what it promises on its own (no secret outside Secrets, non-root pods on a read-only
 * root, a dispatcher leader and standby, the migration hook, disruption budgets).
 */
class HelmChartTest {
    @ParameterizedTest
    @ValueSource(strings = {"default", "staging", "production"})
    void theChartLintsCleanInStrictModeWithEachValuesFile(String values, @TempDir Path scratch) {
        List<Path> files = new ArrayList<>(List.of(Chart.DEFAULT));
        files.addAll(Charts.VALUES.get(values));
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
        Charts.RENDERED.forEach((values, chart) -> {
            assertThat(chart.all(Deployment.class))
                    .as(values)
                    .extracting(d -> d.getSpec()
                            .getTemplate()
                            .getSpec()
                            .getContainers()
                            .get(0)
                            .getArgs())
                    .containsExactlyInAnyOrderElementsOf(
                            Charts.WORKERS.stream().map(List::of).toList());
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
        Charts.RENDERED.forEach((values, chart) -> assertThat(
                        chart.deployment(EventDispatcher.NAME).getSpec().getReplicas())
                .as(values)
                .isGreaterThanOrEqualTo(2));
    }

    /** DATABASE_URL goes into a ConfigMap: a password written into the values' login or parameters is refused. */
    @Test
    void aPasswordInTheDatabaseUrlsLoginOrParametersIsRefused() {
        for (Map<String, Object> set : List.<Map<String, Object>>of(
                Map.of("database.params", "sslmode=require&password=SENTINEL-in-params"),
                Map.of("database.workerUser", "ragworker:SENTINEL-in-user"),
                Map.of("database.ownerUser", "ragowner:SENTINEL-in-owner"))) {
            assertThatThrownBy(() -> Chart.template(List.of(Chart.TEST_VALUES), set))
                    .as("%s", set)
                    .hasMessageContaining("must not carry a password");
        }
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
        Charts.RENDERED.forEach((values, chart) -> {
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
    void theMigrationJobRunsAsAPreInstallAndPreUpgradeHookAfterItsSecret() {
        Charts.RENDERED.forEach((values, chart) -> {
            Job job = chart.named(Job.class, Chart.FULLNAME + "-migrate");
            Map<String, String> hook = job.getMetadata().getAnnotations();
            Container c = job.getSpec().getTemplate().getSpec().getContainers().get(0);

            assertThat(Set.of(hook.get("helm.sh/hook").split(",")))
                    .as(values)
                    .isEqualTo(Set.of("pre-install", "pre-upgrade"));
            assertThat(c.getArgs()).containsExactly("migrate", "--worker-login", Charts.workerLogin(chart));
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
                // helm uninstall leaves hooks: the owner's password goes once the hooks succeeded
                assertThat(Set.of(a.get("helm.sh/hook-delete-policy").split(",")))
                        .as(values)
                        .contains("hook-succeeded");
            });
        });
    }

    @Test
    void whereAServiceMonitorScrapesTheNetworkPolicyLetsAnotherNamespaceReachTheAdminPorts() {
        Charts.RENDERED.forEach((values, chart) -> {
            if (chart.custom(Rendered.SERVICE_MONITOR).isEmpty()) {
                return;
            }
            NetworkPolicy policy = chart.named(NetworkPolicy.class, Chart.FULLNAME);
            assertThat(policy.getSpec().getIngress())
                    .as(values)
                    .filteredOn(rule -> rule.getPorts().stream()
                            .anyMatch(p -> "admin".equals(p.getPort().getStrVal())))
                    .singleElement()
                    .satisfies(rule -> assertThat(rule.getFrom())
                            .anySatisfy(peer ->
                                    assertThat(peer.getNamespaceSelector()).isNotNull()));
        });
    }

    @Test
    void disruptionBudgetsCoverTheWorkersRunningSeveralReplicas() {
        Charts.RENDERED.forEach((values, chart) -> {
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
        Charts.RENDERED.forEach((values, chart) -> {
            for (ConfigMap cm : chart.all(ConfigMap.class)) {
                assertThat(cm.getData().keySet())
                        .as(values + " " + cm.getMetadata().getName())
                        .noneMatch(k -> k.endsWith(Env.FILE_SUFFIX));
            }
        });
    }

    /**
     * Without a CPU limit (the chart sets none) the JVM counts the node's cores, and these
     * variables default to them: a pod's threads and Postgres connections would grow with the
     * node it lands on, past the sizing of docs/operations.md. The chart pins them.
     */
    @Test
    void noWorkerSizesItsThreadsOrConnectionsByTheCoresOfTheNodeItLandsOn() {
        Map<String, List<String>> countedInCores = Map.of(
                IngestWorker.NAME, List.of(WebhookSettings.THREADS, WebhookSettings.POOL_SIZE),
                EmbeddingWorker.NAME, List.of(EmbeddingSettings.ONNX_THREADS));
        Charts.RENDERED.forEach((values, chart) -> countedInCores.forEach((worker, variables) -> assertThat(
                        chart.named(ConfigMap.class, Chart.FULLNAME + "-" + worker)
                                .getData())
                .as(values + " " + worker)
                .containsKeys(variables.toArray(String[]::new))));
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
