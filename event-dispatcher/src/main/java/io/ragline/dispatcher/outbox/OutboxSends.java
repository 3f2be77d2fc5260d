package io.ragline.dispatcher.outbox;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The sends of one batch into its producer's open transaction, and what they came to. Each row
 * becomes a record of its topic (behind the topic prefix) and key, carrying the row's headers, its
 * outbox id ({@value OutboxPublisher#OUTBOX_ID}) and when it was created ({@value
 * OutboxPublisher#CREATED_AT}); the rows are sent in order, and the sends stop at the first that
 * throws or that failed at once. A failure that comes later, through a send's callback, is kept
 * ({@link #rowError}) for the flush or the commit after the sends to act on. {@link
 * OutboxPublisher} decides what each outcome means for the transaction and the producer.
 */
final class OutboxSends {
    /** The first row whose send failed, by a throw or through its callback. */
    final AtomicReference<OutboxRow> firstFailed = new AtomicReference<>();
    /** Why {@link #firstFailed}'s send failed. */
    final AtomicReference<Exception> rowError = new AtomicReference<>();
    /**
     * A send that threw or failed at once, or one whose failure a flush between two groups found
     * (the row is {@link #firstFailed}): the batch stops there.
     */
    Exception failure;
    /** The producer refused to send from the state it is in: it cannot go on, and is discarded. */
    RuntimeException broken;
    /** A commit Kafka refused with the producer still usable: abort, then send again. */
    Exception commitFailure;

    /**
     * Sends {@code groups} in order on {@code p}, each group's rows in order, every group but the
     * last acknowledged ({@code flush()}) before the next is sent: the groups of {@link
     * LeaderGroups}, each reaching its partitions' leader only once the leader before has added its
     * own to the transaction. Stops at the first send that failed, at once or (for a group flushed)
     * through its callback; a flush that throws leaves the producer {@link #broken}.
     */
    static OutboxSends sendGroups(Producer<byte[], byte[]> p, List<List<OutboxRow>> groups, String topicPrefix) {
        OutboxSends sending = new OutboxSends();
        for (int g = 0; g < groups.size(); g++) {
            if (g > 0) {
                try {
                    p.flush();
                } catch (RuntimeException e) { // interrupted: the transaction's state is not known
                    sending.broken = e;
                    return sending;
                }
                if (sending.rowError.get() != null) {
                    sending.failure = sending.rowError.get();
                    return sending;
                }
            }
            if (!sending.sendEach(p, groups.get(g), topicPrefix)) {
                return sending;
            }
        }
        return sending;
    }

    /** Sends {@code rows} in order; false when one failed at once (the sends stop there). */
    private boolean sendEach(Producer<byte[], byte[]> p, List<OutboxRow> rows, String topicPrefix) {
        OutboxSends sending = this;
        for (OutboxRow row : rows) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            try {
                p.send(record(row, topicPrefix), (metadata, e) -> {
                    if (e != null && sending.firstFailed.compareAndSet(null, row)) {
                        sending.rowError.set(e);
                    }
                    done.complete(null);
                });
            } catch (KafkaException e) { // no metadata within max.block.ms, record too large, ...
                sending.firstFailed.compareAndSet(null, row);
                sending.rowError.compareAndSet(null, e);
                sending.failure = e;
                return false;
            } catch (RuntimeException e) { // a producer in a state it cannot send from
                sending.broken = e;
                return false;
            }
            // Without metadata (Kafka down) send() blocks up to max.block.ms and then reports the
            // failure through the callback at once: stop rather than wait again for every row.
            if (done.isDone() && sending.firstFailed.get() != null) {
                sending.failure = sending.rowError.get();
                return false;
            }
        }
        return true;
    }

    /** {@code row} as the record Kafka carries: its topic behind {@code topicPrefix}, its key, payload and headers. */
    static ProducerRecord<byte[], byte[]> record(OutboxRow row, String topicPrefix) {
        RecordHeaders headers = new RecordHeaders();
        row.headers().forEach((k, v) -> headers.add(k, v == null ? null : v.getBytes(StandardCharsets.UTF_8)));
        headers.add(OutboxPublisher.OUTBOX_ID, Long.toString(row.id()).getBytes(StandardCharsets.UTF_8));
        headers.add(OutboxPublisher.CREATED_AT, row.createdAt().toString().getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(
                topicPrefix + row.topic(),
                null,
                row.key() == null ? null : row.key().getBytes(StandardCharsets.UTF_8),
                row.payload() == null ? null : row.payload().getBytes(StandardCharsets.UTF_8),
                headers);
    }
}
