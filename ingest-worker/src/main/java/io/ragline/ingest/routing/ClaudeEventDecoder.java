package io.ragline.ingest.routing;

import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.event.ClaudeEvent;
import io.ragline.contracts.event.ClaudeEventCodec;
import io.ragline.core.consumer.ContractDecoder;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.consumer.RecordDecoder;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads a {@code claude_events} record with {@link ClaudeEventCodec#readNamed}: one that is not a
 * JSON object, or does not say which event it is, is poison (the loop dead-letters it as it is);
 * one that names its event but breaks the contract is returned with its problem, so that the
 * router can mark that event failed.
 */
public final class ClaudeEventDecoder implements RecordDecoder<ClaudeEvent> {
    private final ClaudeEventCodec codec = new ClaudeEventCodec();

    @Override
    public ClaudeEvent decode(ConsumerRecord<byte[], byte[]> record) throws PoisonRecordException {
        try {
            return codec.readNamed(ContractDecoder.key(record), record.value());
        } catch (InvalidMessageException e) {
            throw ContractDecoder.poison(e);
        }
    }
}
