package io.ragline.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The three-broker cluster the failure tests run on: replicated as production is, each broker stoppable alone. */
class KafkaClusterIT {
    @RegisterExtension
    static final KafkaCluster kafka = new KafkaCluster();

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }

    private static String topicWithBrokerDefaults(Admin admin) throws Exception {
        String topic = "cluster-" + UUID.randomUUID().toString().substring(0, 8);
        admin.createTopics(List.of(new NewTopic(topic, Optional.of(3), Optional.empty())))
                .all()
                .get(30, TimeUnit.SECONDS);
        kafka.awaitFullIsr(Duration.ofSeconds(30));
        return topic;
    }

    @Test
    void threeBrokersEachKeepACopyOfEveryPartitionAndTwoMustAcknowledgeEachWrite() throws Exception {
        try (Admin admin = admin()) {
            assertThat(admin.describeCluster().nodes().get(10, TimeUnit.SECONDS))
                    .extracting(n -> n.id())
                    .containsExactlyInAnyOrder(1, 2, 3);
            String topic = topicWithBrokerDefaults(admin);
            TopicDescription d = admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(10, TimeUnit.SECONDS)
                    .get(topic);
            assertThat(d.partitions()).allSatisfy(p -> assertThat(p.replicas()).hasSize(3));
            ConfigResource topicConfig = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            assertThat(admin.describeConfigs(List.of(topicConfig))
                            .all()
                            .get(10, TimeUnit.SECONDS)
                            .get(topicConfig)
                            .get("min.insync.replicas")
                            .value())
                    .isEqualTo("2");
            for (int id = 1; id <= 3; id++) {
                ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(id));
                Config c = admin.describeConfigs(List.of(broker))
                        .all()
                        .get(10, TimeUnit.SECONDS)
                        .get(broker);
                assertThat(c.get("offsets.topic.replication.factor").value()).isEqualTo("3");
                assertThat(c.get("transaction.state.log.replication.factor").value())
                        .isEqualTo("3");
                assertThat(c.get("transaction.state.log.min.isr").value()).isEqualTo("2");
                assertThat(c.get("default.replication.factor").value()).isEqualTo("3");
            }
        }
    }

    @Test
    void acksAllWritesGoOnWhileOneBrokerIsKilledOrStoppedAndEachComesBackInSync() throws Exception {
        String topic;
        try (Admin admin = admin()) {
            topic = topicWithBrokerDefaults(admin);
        }
        int killed = kafka.leaderOf(topic, 0).orElseThrow();
        int stopped = killed % 3 + 1;
        try (KafkaProducer<String, String> producer = KafkaTopics.producer(kafka.bootstrapServers())) {
            send(producer, topic, "before", 50);
            kafka.kill(killed);
            assertThat(kafka.isRunning(killed)).isFalse();
            send(producer, topic, "without-" + killed, 50);
            assertThatThrownBy(() -> kafka.awaitRejoined(killed, Instant.now(), Duration.ofSeconds(2)))
                    .as("a killed broker is not back")
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("has not rejoined");
            Instant restarted = Instant.now();
            kafka.restart(killed);
            QuorumInfo quorum = kafka.awaitRejoined(killed, restarted, Duration.ofSeconds(60));
            assertThat(quorum.leaderId()).isNotEqualTo(killed);
            assertThat(KafkaCluster.logEndOf(quorum, killed)).isGreaterThan(0);
            kafka.awaitFullIsr(Duration.ofSeconds(60));

            kafka.terminate(stopped);
            send(producer, topic, "without-" + stopped, 50);
            kafka.restart(stopped);
            kafka.awaitFullIsr(Duration.ofSeconds(60));
            send(producer, topic, "after", 50);
        }
        assertThat(KafkaTopics.readAll(kafka.bootstrapServers(), topic, Duration.ofSeconds(60)))
                .extracting(r -> r.value())
                .hasSize(200)
                .doesNotHaveDuplicates();
    }

    /** Sends {@code count} records and waits until every one is acknowledged by the in-sync replicas. */
    private static void send(KafkaProducer<String, String> producer, String topic, String phase, int count)
            throws Exception {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            sent.add(producer.send(new ProducerRecord<>(topic, phase + "-" + i, phase + "-" + i)));
        }
        for (Future<RecordMetadata> f : sent) {
            f.get(60, TimeUnit.SECONDS);
        }
    }
}
