package io.ragline.training.predict;

import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.pipeline.DocumentEvent;
import io.ragline.contracts.pipeline.PipelineEvent;
import io.ragline.contracts.pipeline.PipelineEventCodec;
import io.ragline.core.consumer.ContractDecoder;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.consumer.RecordDecoder;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads {@code pipeline-events} for the predictions: a {@code document.embedded} event becomes the
 * document to predict; every other event is {@link EmbeddedDocument#IGNORED}, and so is a
 * tombstone. A record that breaks the contract is poison.
 */
public final class EmbeddedDocumentDecoder implements RecordDecoder<EmbeddedDocument> {
    private final PipelineEventCodec codec = new PipelineEventCodec();

    @Override
    public EmbeddedDocument decode(ConsumerRecord<byte[], byte[]> record) throws PoisonRecordException {
        if (record.value() == null) {
            return EmbeddedDocument.IGNORED;
        }
        PipelineEvent event;
        try {
            event = codec.decode(ContractDecoder.key(record), record.value());
        } catch (InvalidMessageException e) {
            throw ContractDecoder.poison(e);
        }
        return event instanceof DocumentEvent d && d.type() == PipelineEvent.Type.DOCUMENT_EMBEDDED
                ? new EmbeddedDocument(d.collection(), d.id(), d.version())
                : EmbeddedDocument.IGNORED;
    }
}
