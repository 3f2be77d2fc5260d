package io.ragline.dispatcher.outbox;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Sends outbox rows in order and waits for Kafka's acknowledgements. Every message carries the
 * outbox id ({@value #OUTBOX_ID}) so that consumers can drop the duplicates a crash between
 * acknowledgement and delete produces.
 */
public final class OutboxPublisher {
    public static final String OUTBOX_ID = "ragline.outbox.id";
    public static final String CREATED_AT = "ragline.outbox.created_at";

    private final Producer<byte[], byte[]> producer;
    private final String topicPrefix;
    private final Duration timeout;

    public OutboxPublisher(Producer<byte[], byte[]> producer, String topicPrefix, Duration timeout) {
        this.producer = producer;
        this.topicPrefix = topicPrefix;
        this.timeout = timeout;
    }

    private static boolean failedAlready(Future<RecordMetadata> future) {
        try {
            future.get();
            return false;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return true;
        }
    }

    /** What was acknowledged, and the first failure if any. */
    public record Result(List<OutboxRow> acknowledged, Exception failure) {}

    /**
     * Publishes {@code rows}. After a failure, later rows of the same topic and key are not
     * reported as acknowledged even if they were: they stay in the outbox and are sent again after
     * the failed one, so a key's order holds (at the price of a duplicate, marked by its id).
     */
    public Result publish(List<OutboxRow> rows) {
        List<Future<RecordMetadata>> sent = new ArrayList<>(rows.size());
        Exception failure = null;
        for (OutboxRow row : rows) {
            RecordHeaders headers = new RecordHeaders();
            row.headers().forEach((k, v) -> headers.add(k, v == null ? null : v.getBytes(StandardCharsets.UTF_8)));
            headers.add(OUTBOX_ID, Long.toString(row.id()).getBytes(StandardCharsets.UTF_8));
            headers.add(CREATED_AT, row.createdAt().toString().getBytes(StandardCharsets.UTF_8));
            Future<RecordMetadata> future;
            try {
                future = producer.send(new ProducerRecord<>(
                        topicPrefix + row.topic(),
                        null,
                        row.key() == null ? null : row.key().getBytes(StandardCharsets.UTF_8),
                        row.payload() == null ? null : row.payload().getBytes(StandardCharsets.UTF_8),
                        headers));
            } catch (RuntimeException e) {
                failure = e;
                break;
            }
            sent.add(future);
            // Without metadata (Kafka down) send() blocks up to max.block.ms and then hands back an
            // already failed future: stop rather than wait that long once per remaining row.
            if (future.isDone() && failedAlready(future)) {
                break;
            }
        }
        // No flush(): it would wait the whole delivery timeout while Kafka is down. linger.ms sends
        // the batch; the waits below are bounded by the publish timeout.
        List<OutboxRow> acknowledged = new ArrayList<>(rows.size());
        Set<String> blocked = new HashSet<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int i = 0; i < sent.size(); i++) {
            OutboxRow row = rows.get(i);
            String key = row.topic() + "\u0000" + row.key();
            try {
                sent.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (!blocked.contains(key)) {
                    acknowledged.add(row);
                }
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                blocked.add(key);
                if (failure == null) {
                    failure = e;
                }
            }
        }
        return new Result(acknowledged, failure);
    }
}
