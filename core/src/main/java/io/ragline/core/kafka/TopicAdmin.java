package io.ragline.core.kafka;

import io.ragline.core.config.ConfigException;
import io.ragline.core.consumer.DeadLetters;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the topics a worker consumes when they are missing, and their dead-letter topics beside
 * them with the same number of partitions, so a fresh cluster works out of the box. Operators who
 * want other settings create the topics first. A broker that cannot be asked is logged, not fatal:
 * it may create topics on first use.
 *
 * <p>Their replication factor is {@code RAGLINE_TOPIC_REPLICATION_FACTOR}, refused (a {@link
 * ConfigException}, the process does not start) when a topic must be created and fewer brokers
 * answer; unset, the
 * broker's {@code default.replication.factor} read from the cluster, except that a default of 1 on
 * a cluster of several brokers (Kafka's own default, which nobody changed) becomes {@code min(3,
 * brokers)}, logged: never silently one copy on a replicated cluster.
 */
public final class TopicAdmin {
    private static final Logger log = LoggerFactory.getLogger(TopicAdmin.class);

    /** Partitions of a source topic created because it did not exist. */
    public static final int DEFAULT_PARTITIONS = 6;

    private static final long WAIT_SECONDS = 15;

    /** The most copies chosen for the operator when the broker's default is 1. */
    static final int REPLICATED_DEFAULT = 3;

    private static final String BROKER_DEFAULT = "default.replication.factor";

    private final String bootstrap;
    private final KafkaClientProperties properties;
    private final int replicationFactor;

    /**
     * @param replicationFactor {@code RAGLINE_TOPIC_REPLICATION_FACTOR}, or {@link
     *     KafkaSettings#REPLICATION_FROM_BROKER}
     */
    public TopicAdmin(String bootstrap, KafkaClientProperties properties, int replicationFactor) {
        this.bootstrap = bootstrap;
        this.properties = properties;
        this.replicationFactor = replicationFactor;
    }

    /**
     * Creates {@code topics} when missing, then their dead-letter topics. The cluster's brokers and
     * default replication are asked only when something is missing, so a worker whose topics exist
     * starts whatever brokers are down.
     *
     * @throws ConfigException when a topic must be created and the replication factor asked for
     *     exceeds the brokers that answer
     */
    public void ensure(List<String> topics) {
        try (Admin admin =
                KafkaClients.admin(bootstrap, properties, "ragline-topic-admin", Duration.ofSeconds(WAIT_SECONDS))) {
            Set<String> existing = admin.listTopics().names().get(WAIT_SECONDS, TimeUnit.SECONDS);
            List<String> missing =
                    topics.stream().filter(t -> !existing.contains(t)).toList();
            Optional<Short> replication = Optional.empty();
            boolean asked = false;
            List<String> created = List.of();
            if (!missing.isEmpty()) {
                replication = replication(admin);
                asked = true;
                Optional<Short> r = replication;
                created = create(
                        admin,
                        missing.stream()
                                .map(t -> new NewTopic(t, Optional.of(DEFAULT_PARTITIONS), r))
                                .toList(),
                        "topic",
                        " with " + DEFAULT_PARTITIONS + " partitions and " + copies(r));
            }
            Map<String, Integer> partitions = partitions(admin, topics, created);
            List<String> withoutDeadLetters = partitions.keySet().stream()
                    .filter(t -> !existing.contains(DeadLetters.topicOf(t)))
                    .toList();
            if (!withoutDeadLetters.isEmpty()) {
                Optional<Short> r = asked ? replication : replication(admin);
                create(
                        admin,
                        withoutDeadLetters.stream()
                                .map(t -> new NewTopic(DeadLetters.topicOf(t), Optional.of(partitions.get(t)), r))
                                .toList(),
                        "dead-letter topic",
                        " with " + copies(r));
            }
        } catch (ConfigException e) {
            throw e;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn(
                    "topics {} and their dead-letter topics not checked ({}); the broker may create them on first use",
                    topics,
                    KafkaAccessFailure.explain(e, properties));
        }
    }

    /**
     * The partition count of each of {@code topics}: {@link #DEFAULT_PARTITIONS} for those this
     * call created ({@code created}), the others' asked of the cluster (one that could not be
     * created fails the question, which is logged as the topics not checked). A topic just created is not
     * described: on a cluster of several brokers the one asked may not know it yet
     * ({@code UnknownTopicOrPartitionException}), and its dead-letter topic would be left to the
     * broker's defaults.
     */
    private static Map<String, Integer> partitions(Admin admin, List<String> topics, List<String> created)
            throws Exception {
        Map<String, Integer> partitions = new LinkedHashMap<>();
        created.forEach(t -> partitions.put(t, DEFAULT_PARTITIONS));
        List<String> existed = topics.stream().filter(t -> !created.contains(t)).toList();
        if (!existed.isEmpty()) {
            admin.describeTopics(existed)
                    .allTopicNames()
                    .get(WAIT_SECONDS, TimeUnit.SECONDS)
                    .forEach((t, d) -> partitions.put(t, d.partitions().size()));
        }
        return partitions;
    }

    private static String copies(Optional<Short> replication) {
        return replication.map(r -> "replication factor " + r).orElse("the broker's default replication factor");
    }

    /**
     * The replication factor of the topics this creates (class comment); empty for the broker's
     * own default, when its configuration cannot be read (a principal without DescribeConfigs on
     * the cluster may still create topics).
     */
    Optional<Short> replication(Admin admin) throws Exception {
        if (replicationFactor != KafkaSettings.REPLICATION_FROM_BROKER) {
            // Too many copies is the controller's answer to the creation (create), not
            // asked here first: this broker's list of topics may not yet hold one another worker
            // (or this one, a moment ago) just created, and a topic that exists is not refused.
            return Optional.of((short) replicationFactor);
        }
        Collection<Node> brokers = admin.describeCluster().nodes().get(WAIT_SECONDS, TimeUnit.SECONDS);
        ConfigResource broker = new ConfigResource(
                ConfigResource.Type.BROKER,
                String.valueOf(brokers.iterator().next().id()));
        Config config;
        try {
            config = admin.describeConfigs(List.of(broker))
                    .all()
                    .get(WAIT_SECONDS, TimeUnit.SECONDS)
                    .get(broker);
        } catch (ExecutionException e) {
            log.warn(
                    "cannot read the brokers' {} ({}): topics are created with the broker's default",
                    BROKER_DEFAULT,
                    KafkaAccessFailure.explain(e.getCause(), properties));
            return Optional.empty();
        }
        ConfigEntry entry = config.get(BROKER_DEFAULT);
        int fromBroker = entry == null || entry.value() == null ? 1 : Integer.parseInt(entry.value());
        if (fromBroker == 1 && brokers.size() > 1) {
            int chosen = Math.min(REPLICATED_DEFAULT, brokers.size());
            log.info(
                    "the cluster has {} brokers but {}=1: topics Ragline creates get {} copies (set {} to choose)",
                    brokers.size(),
                    BROKER_DEFAULT,
                    chosen,
                    KafkaSettings.REPLICATION_FACTOR);
            return Optional.of((short) chosen);
        }
        return Optional.of((short) fromBroker);
    }

    /**
     * Refuses the replication factor after the controller refused to place that many copies of a
     * topic to create ({@code refused}, whose message names the brokers it could use): nothing was
     * created. The factor is named where it came from: {@code RAGLINE_TOPIC_REPLICATION_FACTOR}, or
     * the brokers' own default when that is unset.
     */
    private void tooFewBrokers(Admin admin, short asked, InvalidReplicationFactorException refused)
            throws InterruptedException {
        String answering;
        try {
            answering = String.valueOf(admin.describeCluster()
                    .nodes()
                    .get(WAIT_SECONDS, TimeUnit.SECONDS)
                    .size());
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            answering = "fewer";
        }
        String factor = replicationFactor == KafkaSettings.REPLICATION_FROM_BROKER
                ? KafkaSettings.REPLICATION_FACTOR + " is unset: "
                        + (asked < 0
                                ? "the brokers' " + BROKER_DEFAULT
                                : asked + " copies from the brokers' " + BROKER_DEFAULT)
                : KafkaSettings.REPLICATION_FACTOR + "='" + replicationFactor + "'";
        throw new ConfigException(List.of(factor + ", which is more than the " + answering
                + " broker(s) answering at " + bootstrap
                + ": Kafka cannot place that many copies of a partition of the topics to create (the controller: "
                + refused.getMessage() + "); set " + KafkaSettings.REPLICATION_FACTOR
                + " to at most the brokers that run, or start the missing ones"));
    }

    /**
     * Creates {@code topics}, logging each; returns those this call created.
     *
     * @throws ConfigException when the controller cannot place as many copies as asked
     */
    private List<String> create(Admin admin, List<NewTopic> topics, String kind, String detail)
            throws InterruptedException {
        List<String> created = new ArrayList<>();
        for (Map.Entry<String, KafkaFuture<Void>> f :
                admin.createTopics(topics).values().entrySet()) {
            try {
                f.getValue().get(WAIT_SECONDS, TimeUnit.SECONDS);
                log.info("created {} {}{}", kind, f.getKey(), detail);
                created.add(f.getKey());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof InvalidReplicationFactorException refused) {
                    tooFewBrokers(admin, topics.get(0).replicationFactor(), refused);
                }
                if (!(e.getCause() instanceof TopicExistsException)) {
                    log.warn(
                            "cannot create {} {}: {}",
                            kind,
                            f.getKey(),
                            KafkaAccessFailure.explain(e.getCause(), properties));
                }
            } catch (java.util.concurrent.TimeoutException e) {
                log.warn("cannot create {} {}: no answer within {} s", kind, f.getKey(), WAIT_SECONDS);
            }
        }
        return created;
    }
}
