package io.ragline.core.consumer;

import io.ragline.contracts.Topic;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Where poison records go. Returns only once the dead letter is durable (acknowledged). */
@FunctionalInterface
public interface DeadLetters {
    void publish(ConsumerRecord<byte[], byte[]> record, Throwable reason, int attempts) throws Exception;

    /** The dead-letter topic of {@code topic}: the catalogue's one rule ({@link Topic#deadLetterOf}). */
    static String topicOf(String topic) {
        return Topic.deadLetterOf(topic);
    }
}
