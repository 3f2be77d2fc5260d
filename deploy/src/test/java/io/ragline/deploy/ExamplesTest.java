package io.ragline.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.ragline.contracts.Topic;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.dispatcher.DispatcherSettings;
import io.ragline.dispatcher.outbox.OutboxPublisher;
import io.ragline.embedding.EmbeddingWorker;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The example manifests of the operators (CloudNativePG, Strimzi) that the docs point to, held to
 * the code (topics, consumer groups, the dispatcher's transactional id) and to the production
 * values that point at them (hosts, logins, certificate authorities, partitions).
 */
class ExamplesTest {
    private static final Path EXAMPLES = Path.of("examples");
    private static final ObjectMapper YAML =
            new ObjectMapper(new YAMLFactory().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION));

    private final Rendered production = Charts.RENDERED.get("production");
    private final Map<String, String> productionEnv = production
            .named(ConfigMap.class, Chart.FULLNAME + "-" + EmbeddingWorker.NAME)
            .getData();

    @Test
    void strimziCreatesEveryTopicAndItsDeadLetterTopicWithAsManyPartitionsAndNoOther() throws IOException {
        Set<String> expected = Stream.of(Topic.values())
                .flatMap(t -> Stream.of(t.topic(), t.deadLetter()))
                .collect(Collectors.toCollection(TreeSet::new));

        Set<String> topics = kind(strimzi(), "KafkaTopic").stream()
                .map(t -> t.at("/spec/topicName").asText(t.at("/metadata/name").asText()))
                .collect(Collectors.toCollection(TreeSet::new));

        assertThat(topics).isEqualTo(expected);
        Map<String, Integer> partitions = new java.util.TreeMap<>();
        kind(strimzi(), "KafkaTopic")
                .forEach(t -> partitions.put(
                        t.at("/spec/topicName").asText(t.at("/metadata/name").asText()),
                        t.at("/spec/partitions").asInt()));
        for (Topic t : Topic.values()) { // as TopicAdmin would create a dead-letter topic
            assertThat(partitions.get(t.deadLetter())).as(t.deadLetter()).isEqualTo(partitions.get(t.topic()));
        }
        assertThat(productionEnv.get(CoreSettings.TOPIC_PREFIX))
                .as("the topics carry no prefix")
                .isEmpty();
    }

    @Test
    void kedaScalesTheEmbeddingWorkerNoFurtherThanThePartitionsOfItsTopic() throws IOException {
        JsonNode requests = kind(strimzi(), "KafkaTopic").stream()
                .filter(t -> t.at("/metadata/name").asText().equals(EmbeddingWorker.EMBEDDING_REQUESTS))
                .findFirst()
                .orElseThrow();
        int maxReplicas = production
                .custom(Rendered.SCALED_OBJECT)
                .get(0)
                .at("/spec/maxReplicaCount")
                .asInt();

        assertThat(maxReplicas)
                .isPositive()
                .isLessThanOrEqualTo(requests.at("/spec/partitions").asInt());
    }

    @Test
    void theProductionValuesReachTheStrimziClusterThroughItsScramListenerAndCertificateAuthority() throws IOException {
        JsonNode kafka = kind(strimzi(), "Kafka").get(0);
        String cluster = kafka.at("/metadata/name").asText();
        JsonNode listener = kafka.at("/spec/kafka/listeners/0");

        assertThat(productionEnv.get(CoreSettings.KAFKA_BOOTSTRAP_SERVERS))
                .isEqualTo(cluster + "-kafka-bootstrap:" + listener.path("port").asInt());
        assertThat(listener.at("/authentication/type").asText()).isEqualTo("scram-sha-512");
        assertThat(productionEnv.get("RAGLINE_KAFKA_SASL_MECHANISM")).isEqualTo("SCRAM-SHA-512");
        assertThat(productionEnv.get("RAGLINE_KAFKA_SECURITY_PROTOCOL")).isEqualTo("SASL_SSL");
        assertThat(listener.path("tls").asBoolean()).isTrue();
        assertThat(secretOfVolume(workerPod(), "kafka-ca")).isEqualTo(cluster + "-cluster-ca-cert");
    }

    @Test
    void theStrimziUserMayUseEveryTopicItsGroupsAndTheDispatchersTransactionalId() throws IOException {
        JsonNode user = kind(strimzi(), "KafkaUser").get(0);
        List<JsonNode> acls = new ArrayList<>();
        user.at("/spec/authorization/acls").forEach(acls::add);

        for (Topic t : Topic.values()) {
            for (String topic : List.of(t.topic(), t.deadLetter())) {
                assertThat(acls)
                        .as(topic)
                        .anySatisfy(
                                acl -> assertThat(allows(acl, "topic", topic, "Create", "Read", "Write", "Describe"))
                                        .isTrue());
            }
        }
        String group = productionEnv.getOrDefault(KafkaSettings.GROUP_PREFIX, KafkaSettings.DEFAULT_GROUP_PREFIX) + "-"
                + EmbeddingWorker.EMBEDDING_REQUESTS;
        assertThat(acls)
                .anySatisfy(
                        acl -> assertThat(allows(acl, "group", group, "Read")).isTrue());
        String transactionalId = transactionalIdPrefix() + "00000000-0000-0000-0000-000000000000";
        // Every producer's id: the schema's and the same with -1 to -3, which every leader initialises.
        for (int slot = 0; slot < DispatcherSettings.MAX_PRODUCERS; slot++) {
            String id = OutboxPublisher.transactionalId(transactionalId, slot);
            assertThat(acls)
                    .as(id)
                    .anySatisfy(acl -> assertThat(allows(acl, "transactionalId", id, "Write", "Describe"))
                            .isTrue());
        }
    }

    @Test
    void theProductionValuesLogInToTheCloudNativePgClusterAsItsManagedRoles() throws IOException {
        JsonNode cluster = kind(cloudNativePg(), "Cluster").get(0);
        String name = cluster.at("/metadata/name").asText();
        DatabaseUrl workers = DatabaseUrl.parse(productionEnv.get(CoreSettings.DATABASE_URL))
                .url()
                .orElseThrow();
        PodSpec job = production
                .named(Job.class, Chart.FULLNAME + "-migrate")
                .getSpec()
                .getTemplate()
                .getSpec();
        DatabaseUrl owner = DatabaseUrl.parse(job.getContainers().get(0).getEnv().stream()
                        .filter(e -> e.getName().equals(CoreSettings.DATABASE_URL))
                        .findFirst()
                        .orElseThrow()
                        .getValue())
                .url()
                .orElseThrow();
        Map<String, JsonNode> roles = new java.util.TreeMap<>();
        cluster.at("/spec/managed/roles").forEach(r -> roles.put(r.path("name").asText(), r));

        assertThat(workers.hosts()).containsExactly(name + "-rw:5432");
        assertThat(workers.database())
                .isEqualTo(cluster.at("/spec/bootstrap/initdb/database").asText());
        assertThat(owner.user())
                .isEqualTo(cluster.at("/spec/bootstrap/initdb/owner").asText());
        assertThat(roles.get(owner.user()).path("createrole").asBoolean()).isTrue();
        assertThat(roles.get(workers.user()).path("login").asBoolean()).isTrue();
        assertThat(roles.get(workers.user()).has("inRoles"))
                .as("the migration Job grants ragline_worker")
                .isFalse();
        assertThat(secretOfVolume(job, "secrets"))
                .isEqualTo(cluster.at("/spec/bootstrap/initdb/secret/name").asText());
        assertThat(secretOfVolume(workerPod(), "postgres-ca")).isEqualTo(name + "-ca");
        assertThat(workers.parameters()).containsEntry("sslmode", "verify-full");
    }

    private PodSpec workerPod() {
        return production
                .deployment(EmbeddingWorker.NAME)
                .getSpec()
                .getTemplate()
                .getSpec();
    }

    private static String secretOfVolume(PodSpec pod, String volume) {
        return pod.getVolumes().stream()
                .filter(v -> v.getName().equals(volume))
                .map(Volume::getSecret)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + volume))
                .getSecretName();
    }

    /** Whether {@code acl} allows {@code operations} on the resource {@code type}/{@code name}. */
    private static boolean allows(JsonNode acl, String type, String name, String... operations) {
        JsonNode r = acl.path("resource");
        String pattern = r.path("name").asText();
        boolean matches = r.path("patternType").asText("literal").equals("prefix")
                ? name.startsWith(pattern)
                : name.equals(pattern) || pattern.equals("*");
        List<String> granted = new ArrayList<>();
        acl.path("operations").forEach(o -> granted.add(o.asText()));
        return r.path("type").asText().equals(type) && matches && granted.containsAll(List.of(operations));
    }

    /** The prefix of the dispatcher's transactional id, as the migration that makes it writes it. */
    private static String transactionalIdPrefix() throws IOException {
        String migration = "/io/ragline/core/db/migration/V4__outbox_order_and_dead_letters.sql";
        try (InputStream in = CoreSettings.class.getResourceAsStream(migration)) {
            assertThat(in).as(migration).isNotNull();
            String sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                            "'outbox', '([^']+)' \\|\\| gen_random_uuid\\(\\)")
                    .matcher(sql);
            assertThat(m.find()).as("the transactional id in " + migration).isTrue();
            return m.group(1);
        }
    }

    private static List<JsonNode> strimzi() throws IOException {
        return read(EXAMPLES.resolve("strimzi.yaml"));
    }

    private static List<JsonNode> cloudNativePg() throws IOException {
        return read(EXAMPLES.resolve("cloudnativepg.yaml"));
    }

    private static List<JsonNode> kind(List<JsonNode> docs, String kind) {
        return docs.stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
    }

    private static List<JsonNode> read(Path file) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            it.forEachRemaining(docs::add);
        }
        return docs;
    }
}
