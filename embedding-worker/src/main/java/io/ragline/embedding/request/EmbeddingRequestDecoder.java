package io.ragline.embedding.request;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.core.consumer.JsonRecords;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.consumer.RecordDecoder;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Reads an embedding request; anything else is poison with the reason. */
public final class EmbeddingRequestDecoder implements RecordDecoder<EmbeddingRequest> {

    @Override
    public EmbeddingRequest decode(ConsumerRecord<byte[], byte[]> record) throws PoisonRecordException {
        if (record.value() == null) {
            throw new PoisonRecordException("an embedding request cannot be a tombstone");
        }
        ObjectNode n = JsonRecords.object(record.value());
        if (!n.path("collection").isTextual()
                || !n.path("id").isTextual()
                || !n.path("document").isIntegralNumber()
                || !n.path("version").isIntegralNumber()) {
            throw new PoisonRecordException(
                    "an embedding request needs collection and id (strings), document and version (integers)");
        }
        return new EmbeddingRequest(
                n.get("collection").asText(),
                n.get("id").asText(),
                n.get("document").asLong(),
                n.get("version").asLong());
    }
}
