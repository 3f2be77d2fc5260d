package io.ragline.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ragline.core.config.ConfigException;
import io.ragline.core.consumer.ConsumerFixtureMain;
import io.ragline.core.consumer.DeadLetters;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The replication factor of the topics Ragline creates, against the real (one-broker) dev cluster. */
class TopicAdminIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", KafkaTopics.bootstrapServers()));
    }

    private static int brokers() throws Exception {
        try (Admin admin = admin()) {
            return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
        }
    }

    private static Map<String, TopicDescription> describe(String... topics) throws Exception {
        try (Admin admin = admin()) {
            return admin.describeTopics(List.of(topics)).allTopicNames().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void unsetTopicsGetTheBrokersDefaultReplicationFactorAndSoDoTheirDeadLetterTopics() throws Exception {
        String topic = "rf-default-" + UUID.randomUUID();
        int brokerDefault;
        try (Admin admin = admin()) {
            String id = String.valueOf(admin.describeCluster()
                    .nodes()
                    .get(10, TimeUnit.SECONDS)
                    .iterator()
                    .next()
                    .id());
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, id);
            brokerDefault = Integer.parseInt(admin.describeConfigs(List.of(broker))
                    .all()
                    .get(10, TimeUnit.SECONDS)
                    .get(broker)
                    .get("default.replication.factor")
                    .value());
        }
        int expected = brokerDefault == 1 && brokers() > 1 ? Math.min(3, brokers()) : brokerDefault;

        new TopicAdmin(
                        KafkaTopics.bootstrapServers(),
                        KafkaClientProperties.none(),
                        KafkaSettings.REPLICATION_FROM_BROKER)
                .ensure(List.of(topic));

        // (A topic just created may take a moment to be known to every broker's metadata.)
        await().atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .untilAsserted(() -> assertThat(
                                describe(topic, DeadLetters.topicOf(topic)).values())
                        .hasSize(2)
                        .allSatisfy(d -> assertThat(d.partitions())
                                .hasSize(TopicAdmin.DEFAULT_PARTITIONS)
                                .allSatisfy(p -> assertThat(p.replicas()).hasSize(expected))));
    }

    @Test
    void moreCopiesThanTheClusterHasBrokersAreRefusedNamingTheVariableAndNothingIsCreated() throws Exception {
        String topic = "rf-refused-" + UUID.randomUUID();
        int tooMany = brokers() + 2;

        assertThatThrownBy(() -> new TopicAdmin(KafkaTopics.bootstrapServers(), KafkaClientProperties.none(), tooMany)
                        .ensure(List.of(topic)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("RAGLINE_TOPIC_REPLICATION_FACTOR='" + tooMany + "', which is more than the "
                        + brokers() + " broker(s) answering");
        try (Admin admin = admin()) {
            assertThat(admin.listTopics().names().get(10, TimeUnit.SECONDS)).doesNotContain(topic);
        }
    }

    @Test
    void topicsThatExistLetAWorkerStartWhileBrokersAreMissing() throws Exception {
        String topic = "rf-existing-" + UUID.randomUUID();
        new TopicAdmin(
                        KafkaTopics.bootstrapServers(),
                        KafkaClientProperties.none(),
                        KafkaSettings.REPLICATION_FROM_BROKER)
                .ensure(List.of(topic));

        // As if two of three brokers were down: more copies asked than answer, nothing to create.
        new TopicAdmin(KafkaTopics.bootstrapServers(), KafkaClientProperties.none(), brokers() + 2)
                .ensure(List.of(topic));
        try (Admin admin = admin()) {
            assertThat(admin.listTopics().names().get(10, TimeUnit.SECONDS)).contains(topic, topic + ".dlq");
        }
    }

    @Test
    void aWorkerAskingForMoreCopiesThanBrokersDoesNotStartAndSaysWhy() throws Exception {
        String topic = "rf-worker-" + UUID.randomUUID();
        Map<String, String> env = new HashMap<>(db.env());
        env.put("FIXTURE_TOPIC", topic);
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put(KafkaSettings.REPLICATION_FACTOR, String.valueOf(brokers() + 2));

        JavaProcess worker = JavaProcess.start(List.of(), ConsumerFixtureMain.class.getName(), env);

        assertThat(worker.waitFor(60)).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("RAGLINE_TOPIC_REPLICATION_FACTOR='" + (brokers() + 2) + "', which is more than");
    }
}
