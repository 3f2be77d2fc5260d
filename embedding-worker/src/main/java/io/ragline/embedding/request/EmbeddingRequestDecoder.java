package io.ragline.embedding.request;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.consumer.RecordDecoder;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Reads an embedding request; anything else is poison with the reason. */
public final class EmbeddingRequestDecoder implements RecordDecoder<EmbeddingRequest> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public EmbeddingRequest decode(ConsumerRecord<byte[], byte[]> record) throws PoisonRecordException {
        if (record.value() == null) {
            throw new PoisonRecordException("an embedding request cannot be a tombstone");
        }
        JsonNode n;
        try {
            n = JSON.readTree(record.value());
        } catch (java.io.IOException e) {
            throw new PoisonRecordException("not JSON");
        }
        if (n == null
                || !n.path("collection").isTextual()
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
