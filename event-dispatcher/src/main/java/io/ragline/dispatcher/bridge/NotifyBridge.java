package io.ragline.dispatcher.bridge;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forwards raw {@code NOTIFY channel, 'payload'} to Kafka for applications that already notify
 * with a payload ({@code RAGLINE_NOTIFY_BRIDGE=channel=topic,...}). At most once: Postgres drops
 * notifications while nobody listens, and a payload is limited to 8000 bytes. For anything that
 * must arrive, insert into the outbox instead.
 */
public final class NotifyBridge {
    private static final Logger log = LoggerFactory.getLogger(NotifyBridge.class);

    private final Map<String, String> channelToTopic;
    private final Producer<byte[], byte[]> producer;
    private final String topicPrefix;

    public NotifyBridge(Map<String, String> channelToTopic, Producer<byte[], byte[]> producer, String topicPrefix) {
        this.channelToTopic = Map.copyOf(channelToTopic);
        this.producer = producer;
        this.topicPrefix = topicPrefix;
    }

    public Set<String> channels() {
        return channelToTopic.keySet();
    }

    public void publish(String channel, String payload) {
        String topic = channelToTopic.get(channel);
        if (topic == null) {
            return;
        }
        producer.send(
                new ProducerRecord<>(
                        topicPrefix + topic,
                        channel.getBytes(StandardCharsets.UTF_8),
                        payload == null ? null : payload.getBytes(StandardCharsets.UTF_8)),
                (metadata, e) -> {
                    if (e != null) {
                        log.warn(
                                "NOTIFY on {} not forwarded to {} (at-most-once bridge): {}",
                                channel,
                                topic,
                                e.toString());
                    }
                });
    }
}
