package io.ragline.training.predict;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.core.consumer.JsonRecords;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.consumer.RecordDecoder;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads {@code pipeline-events} (contracts/pipeline-events.schema.json) for the predictions: a
 * {@code document.embedded} event needs its collection, id and version; every other type is
 * {@link EmbeddedDocument#IGNORED}. Only a record that is not an event at all is poison.
 */
public final class EmbeddedDocumentDecoder implements RecordDecoder<EmbeddedDocument> {

    @Override
    public EmbeddedDocument decode(ConsumerRecord<byte[], byte[]> record) throws PoisonRecordException {
        if (record.value() == null) {
            return EmbeddedDocument.IGNORED;
        }
        ObjectNode root = JsonRecords.object(record.value());
        if (!root.path("type").isTextual()) {
            throw new PoisonRecordException("not a pipeline event (no type)");
        }
        if (!root.get("type").asText().equals("document.embedded")) {
            return EmbeddedDocument.IGNORED;
        }
        StringBuilder problems = new StringBuilder();
        if (!root.path("collection").isTextual()) {
            problems.append("document.embedded without collection; ");
        }
        if (!root.path("id").isTextual()) {
            problems.append("document.embedded without id; ");
        }
        if (!root.path("version").canConvertToLong() || !root.path("version").isIntegralNumber()) {
            problems.append("document.embedded without an integer version; ");
        }
        if (problems.length() > 0) {
            throw new PoisonRecordException(problems.substring(0, problems.length() - 2));
        }
        return new EmbeddedDocument(
                root.get("collection").asText(),
                root.get("id").asText(),
                root.get("version").asLong());
    }
}
