package io.ragline.core.consumer;

import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * A record that can never be applied: not parsable, not valid, or refused by the database for
 * its content. Thrown by a decoder, or by a writer that names the offending record so that the
 * rest of the batch is applied without it. The message is for the dead-letter header: it must
 * say what is wrong without repeating the payload.
 */
public class PoisonRecordException extends Exception {
    private final transient ConsumerRecord<byte[], byte[]> record;

    public PoisonRecordException(String message) {
        this(message, null, null);
    }

    public PoisonRecordException(String message, Throwable cause) {
        this(message, null, cause);
    }

    public PoisonRecordException(String message, ConsumerRecord<byte[], byte[]> record, Throwable cause) {
        super(message, cause);
        this.record = record;
    }

    /** The record at fault, when the writer knows it. */
    public Optional<ConsumerRecord<byte[], byte[]>> record() {
        return Optional.ofNullable(record);
    }

    /** The record of {@code records} that a poison failure in {@code failure}'s causes names, if any. */
    public static <T> Optional<InboundRecord<T>> culpritAmong(Throwable failure, List<InboundRecord<T>> records) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof PoisonRecordException p && p.record().isPresent()) {
                ConsumerRecord<byte[], byte[]> bad = p.record().get();
                return records.stream()
                        .filter(r -> r.topic().equals(bad.topic())
                                && r.partition() == bad.partition()
                                && r.offset() == bad.offset())
                        .findFirst();
            }
        }
        return Optional.empty();
    }
}
