package io.ragline.core.consumer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Dead letters on {@code <topic>.dlq}: the original key, value and headers, plus headers naming
 * the error and where the record came from. The error message is cut to 1,000 characters and is
 * the exception's own text, never the payload.
 */
public final class KafkaDeadLetters implements DeadLetters {
    public static final String ERROR_CLASS = "ragline.dlq.error.class";
    public static final String ERROR_MESSAGE = "ragline.dlq.error.message";
    public static final String TOPIC = "ragline.dlq.topic";
    public static final String PARTITION = "ragline.dlq.partition";
    public static final String OFFSET = "ragline.dlq.offset";
    public static final String TIMESTAMP = "ragline.dlq.timestamp";
    public static final String ATTEMPTS = "ragline.dlq.attempts";
    public static final String CONSUMER_GROUP = "ragline.dlq.group";

    private static final int MAX_MESSAGE = 1000;

    private final Producer<byte[], byte[]> producer;
    private final String groupId;
    private final Duration timeout;

    public KafkaDeadLetters(Producer<byte[], byte[]> producer, String groupId, Duration timeout) {
        this.producer = producer;
        this.groupId = groupId;
        this.timeout = timeout;
    }

    @Override
    public void publish(ConsumerRecord<byte[], byte[]> record, Throwable reason, int attempts) throws Exception {
        Headers headers = new RecordHeaders();
        for (Header h : record.headers()) {
            headers.add(h);
        }
        Throwable root = reason;
        headers.add(ERROR_CLASS, utf8(root.getClass().getName()));
        headers.add(ERROR_MESSAGE, utf8(truncate(describe(root))));
        headers.add(TOPIC, utf8(record.topic()));
        headers.add(PARTITION, utf8(Integer.toString(record.partition())));
        headers.add(OFFSET, utf8(Long.toString(record.offset())));
        headers.add(TIMESTAMP, utf8(Long.toString(record.timestamp())));
        headers.add(ATTEMPTS, utf8(Integer.toString(attempts)));
        headers.add(CONSUMER_GROUP, utf8(groupId));
        producer.send(new ProducerRecord<>(
                        DeadLetters.topicOf(record.topic()), null, record.key(), record.value(), headers))
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(String.valueOf(t.getMessage()));
        for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            sb.append(" <- ").append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
        }
        return sb.toString();
    }

    private static String truncate(String s) {
        return s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE - 1) + "…";
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
