package io.ragline.core.kafka;

import io.ragline.core.consumer.DeadLetters;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the topics a worker consumes when they are missing, and their dead-letter topics beside
 * them with the same number of partitions, so a fresh cluster works out of the box. Operators who
 * want other settings create the topics first. A broker that cannot be asked is logged, not fatal:
 * it may create topics on first use.
 */
public final class TopicAdmin {
    private static final Logger log = LoggerFactory.getLogger(TopicAdmin.class);

    /** Partitions of a source topic created because it did not exist. */
    public static final int DEFAULT_PARTITIONS = 6;

    private static final long WAIT_SECONDS = 15;

    private final String bootstrap;
    private final KafkaClientProperties properties;

    public TopicAdmin(String bootstrap, KafkaClientProperties properties) {
        this.bootstrap = bootstrap;
        this.properties = properties;
    }

    /** Creates {@code topics} when missing, then their dead-letter topics. */
    public void ensure(List<String> topics) {
        try (Admin admin =
                KafkaClients.admin(bootstrap, properties, "ragline-topic-admin", Duration.ofSeconds(WAIT_SECONDS))) {
            Set<String> existing = admin.listTopics().names().get(WAIT_SECONDS, TimeUnit.SECONDS);
            List<NewTopic> missing = topics.stream()
                    .filter(t -> !existing.contains(t))
                    .map(t -> new NewTopic(t, Optional.of(DEFAULT_PARTITIONS), Optional.empty()))
                    .toList();
            create(admin, missing, "topic", " with " + DEFAULT_PARTITIONS + " partitions");
            Map<String, TopicDescription> sources =
                    admin.describeTopics(topics).allTopicNames().get(WAIT_SECONDS, TimeUnit.SECONDS);
            List<NewTopic> deadLetters = new ArrayList<>();
            for (TopicDescription d : sources.values()) {
                deadLetters.add(new NewTopic(
                        DeadLetters.topicOf(d.name()),
                        Optional.of(d.partitions().size()),
                        Optional.empty()));
            }
            create(admin, deadLetters, "dead-letter topic", "");
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

    private void create(Admin admin, List<NewTopic> topics, String kind, String detail) throws InterruptedException {
        for (Map.Entry<String, KafkaFuture<Void>> f :
                admin.createTopics(topics).values().entrySet()) {
            try {
                f.getValue().get(WAIT_SECONDS, TimeUnit.SECONDS);
                log.info("created {} {}{}", kind, f.getKey(), detail);
            } catch (ExecutionException e) {
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
    }
}
