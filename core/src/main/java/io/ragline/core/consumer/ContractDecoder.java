package io.ragline.core.consumer;

import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.MessageCodec;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * A topic's codec as the poll loop's decoder: a message its contract refuses is poison, dead-
 * lettered with the codec's reason.
 */
public final class ContractDecoder<T> implements RecordDecoder<T> {
    private final MessageCodec<T> codec;

    public ContractDecoder(MessageCodec<T> codec) {
        this.codec = codec;
    }

    @Override
    public T decode(ConsumerRecord<byte[], byte[]> record) throws PoisonRecordException {
        try {
            return codec.decode(key(record), record.value());
        } catch (InvalidMessageException e) {
            throw poison(e);
        }
    }

    /** The record's key as UTF-8 text, or null. */
    public static String key(ConsumerRecord<byte[], byte[]> record) {
        return record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    }

    /**
     * The dead-letter reason is the contract's, alone: the refusal is not kept as the cause, whose
     * class and message the dead-letter header would otherwise repeat.
     */
    public static PoisonRecordException poison(InvalidMessageException e) {
        return new PoisonRecordException(e.getMessage());
    }
}
