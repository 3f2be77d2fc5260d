package io.ragline.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.ragline.cli.Processes;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.ingest.IngestWorker;
import io.ragline.ingest.webhook.WebhookSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rendered chart held to the code: each worker's variables are ones its wiring reads and
 * accepts, its probes hit paths a real admin server serves on the port the worker listens on, the
 * grace period outlasts its shutdown bound, and the autoscalers watch its Deployment and the
 * consumer group and topic it reads.
 */
class ChartMatchesCodeTest {
    @Test
    void everyVariableTheChartSetsIsOneTheWorkerReadsAndTheWorkerAcceptsThemAll(@TempDir Path dir) {
        Charts.RENDERED.forEach((values, chart) -> {
            for (String worker : Charts.WORKERS) {
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
        Charts.RENDERED.forEach((values, chart) -> {
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
            assertThat(url.user()).as(values).isNotEqualTo(Charts.workerLogin(chart));
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
            Charts.RENDERED.forEach((values, chart) -> {
                for (String worker : Charts.WORKERS) {
                    PodSpec pod =
                            chart.deployment(worker).getSpec().getTemplate().getSpec();
                    Container c = pod.getContainers().get(0);
                    Env env = WorkerEnvironment.resolved(chart, pod, c, dir);
                    int adminPort = CoreSettings.from(
                                    env, Processes.named(worker).defaultAdminPort())
                            .adminPort();
                    String what = values + " " + worker;

                    assertThat(Charts.port(c, "admin")).as(what).isEqualTo(adminPort);
                    for (Probe probe : List.of(c.getStartupProbe(), c.getLivenessProbe(), c.getReadinessProbe())) {
                        HTTPGetAction get = probe.getHttpGet();
                        int target = get.getPort().getStrVal() != null
                                ? Charts.port(c, get.getPort().getStrVal())
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
        Charts.RENDERED.forEach((values, chart) -> {
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

                assertThat(Charts.port(c, "http")).as(values + " " + worker).isEqualTo(served);
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
    void theKubeletWaitsLongerThanTheShutdownTimeoutBeforeKilling(@TempDir Path dir) {
        Charts.RENDERED.forEach((values, chart) -> {
            for (String worker : Charts.WORKERS) {
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

    /**
     * A pod waiting for Postgres or Kafka ({@code RAGLINE_STARTUP_WAIT}) has not opened its admin
     * port: its startup probe must give it the wait, a last attempt at each step (three, each
     * bounded by {@code RAGLINE_STARTUP_TIMEOUT}) and a minute for the JVM, or the kubelet restarts
     * a pod that was about to start.
     */
    @Test
    void theStartupProbeOutlastsTheStartUpWait(@TempDir Path dir) {
        Charts.RENDERED.forEach((values, chart) -> {
            for (String worker : Charts.WORKERS) {
                PodSpec pod = chart.deployment(worker).getSpec().getTemplate().getSpec();
                Container c = pod.getContainers().get(0);
                CoreSettings settings = CoreSettings.from(WorkerEnvironment.resolved(chart, pod, c, dir), 0);
                Probe startup = c.getStartupProbe();
                long budget = (long) startup.getPeriodSeconds() * startup.getFailureThreshold()
                        + (startup.getInitialDelaySeconds() == null ? 0 : startup.getInitialDelaySeconds());

                assertThat(budget)
                        .as(values + " " + worker)
                        .isGreaterThan(settings.startupWait()
                                .plus(settings.startupTimeout().multipliedBy(3))
                                .plusMinutes(1)
                                .toSeconds());
            }
        });
    }

    @Test
    void theWorkersRunAsTheLoginTheJobGrantsWithoutMigrating(@TempDir Path dir) {
        Charts.RENDERED.forEach((values, chart) -> {
            for (String worker : Charts.WORKERS) {
                PodSpec pod = chart.deployment(worker).getSpec().getTemplate().getSpec();
                Env env = WorkerEnvironment.resolved(
                        chart, pod, pod.getContainers().get(0), dir);
                CoreSettings settings = CoreSettings.from(env, 0);

                assertThat(settings.migrateOnStart()).as(values + " " + worker).isFalse();
                assertThat(settings.database().user()).isEqualTo(Charts.workerLogin(chart));
            }
        });
    }

    @Test
    void theMigrationJobIsARealMigrateCommandThatGrantsTheWorkersLoginAndNoRaglineRole() {
        Charts.RENDERED.forEach((values, chart) -> {
            Container job = chart.named(Job.class, Chart.FULLNAME + "-migrate")
                    .getSpec()
                    .getTemplate()
                    .getSpec()
                    .getContainers()
                    .get(0);

            assertThat(Processes.workerLoginsOfMigration(job.getArgs()))
                    .as(values)
                    .containsExactly(Charts.workerLogin(chart));
        });
    }

    @Test
    void theAutoscalersTargetTheEmbeddingWorkerAndKedaWatchesItsConsumerGroup(@TempDir Path dir) {
        String target = Chart.FULLNAME + "-" + EmbeddingWorker.NAME;
        HorizontalPodAutoscaler hpa = Charts.RENDERED.get("default").named(HorizontalPodAutoscaler.class, target);
        assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
        assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo(target);
        assertThat(Charts.RENDERED
                        .get("default")
                        .deployment(EmbeddingWorker.NAME)
                        .getSpec()
                        .getReplicas())
                .as("the autoscaler owns the count")
                .isNull();

        Rendered production = Charts.RENDERED.get("production");
        assertThat(production.all(HorizontalPodAutoscaler.class))
                .as("KEDA makes its own")
                .isEmpty();
        JsonNode scaled = production.custom(Rendered.SCALED_OBJECT).get(0);
        assertThat(Charts.fieldNames(scaled.path("spec")))
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
                Rendered chart = Charts.RENDERED.get(values);
                JsonNode monitor = chart.custom(Rendered.SERVICE_MONITOR).get(0);
                assertThat(Charts.fieldNames(monitor.path("spec"))).containsExactlyInAnyOrder("selector", "endpoints");
                JsonNode endpoint = monitor.at("/spec/endpoints/0");
                assertThat(Charts.fieldNames(endpoint)).containsExactlyInAnyOrder("port", "path", "interval");
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
                for (String worker : Charts.WORKERS) {
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

    private static Set<String> notRead(Set<String> set, Env env) {
        Set<String> unread = new java.util.TreeSet<>(set);
        unread.removeAll(env.asked());
        return unread;
    }

    private static boolean labelsMatch(JsonNode matchLabels, Service s) {
        Map<String, String> labels = s.getMetadata().getLabels();
        List<String> keys = Charts.fieldNames(matchLabels);
        return keys.stream().allMatch(k -> matchLabels.path(k).asText().equals(labels.get(k)));
    }
}
