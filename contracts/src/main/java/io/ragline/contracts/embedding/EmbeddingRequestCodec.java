package io.ragline.contracts.embedding;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.Json;
import io.ragline.contracts.MessageCodec;
import io.ragline.contracts.Topic;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The {@code embedding-requests} contract. Its Java home; its SQL home is the {@code
 * request_embeddings} function (migration V12), which bulk paths use and which an integration
 * test holds to this codec.
 */
public final class EmbeddingRequestCodec implements MessageCodec<EmbeddingRequest> {
    static final Set<String> FIELDS = Set.of("schema_version", "collection", "id", "document", "version");

    @Override
    public Topic topic() {
        return Topic.EMBEDDING_REQUESTS;
    }

    @Override
    public String key(EmbeddingRequest message) {
        return message.key();
    }

    @Override
    public String encode(EmbeddingRequest r) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("schema_version", 1);
        n.put("collection", r.collection());
        n.put("id", r.id());
        n.put("document", r.document());
        n.put("version", r.version());
        return n.toString();
    }

    @Override
    public EmbeddingRequest decode(String key, byte[] value) throws InvalidMessageException {
        if (value == null) {
            throw new InvalidMessageException("an embedding request cannot be a tombstone");
        }
        ObjectNode n = Json.object(value);
        List<String> problems = new ArrayList<>();
        Json.checkFields(n, FIELDS, problems);
        if (!n.has("schema_version")) {
            problems.add("missing schema_version");
        }
        String collection = Json.text(n, "collection", problems, true);
        String id = Json.text(n, "id", problems, true);
        Long document = Json.integer(n, "document", problems, true);
        Long version = Json.integer(n, "version", problems, true);
        if (problems.isEmpty() && key != null && !key.equals(collection + "/" + id)) {
            problems.add("the key '" + Json.abbreviate(key) + "' does not match collection/id");
        }
        Json.refuseIfAny(problems);
        return new EmbeddingRequest(collection, id, document, version);
    }
}
