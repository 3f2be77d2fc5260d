package io.ragline.console.collections;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.ApiProblem;
import io.ragline.console.api.ApiRequest;
import io.ragline.console.api.ApiResponse;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Json;
import io.ragline.console.api.Page;
import io.ragline.console.api.Schemas;
import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.contracts.document.DocumentMessage;
import io.ragline.contracts.status.DocumentStatus;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.collections.Reembedding;
import io.ragline.core.documents.DocumentPublisher;
import io.ragline.core.http.ApiTokens.Role;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * {@code /api/v1/documents}: the documents of every collection, newest first (by id), one with its
 * chunks and whether each has a vector, and the operator's actions. A publish and a delete go
 * through Kafka like any producer's ({@link DocumentPublisher}: the {@code documents} topic, key
 * {@code collection/id}), so the ingest-worker applies them with its versions, chunking and dead
 * letters; the API answers 202 once Kafka acknowledged the record. A re-embed is core's {@link
 * Reembedding}, in one transaction.
 */
public final class DocumentsApi {
    /** How long a publish waits for Kafka's acknowledgement before answering 503. */
    static final Duration ACK_TIMEOUT = Duration.ofSeconds(30);

    private final DocumentPublisher publisher;
    private final DocumentCodec codec;
    private final DocumentQueries queries = new DocumentQueries(Json.MAPPER);

    /**
     * @param publisher publishes to the documents topic (the runtime's producer and prefixed topic)
     * @param maxContentBytes {@code RAGLINE_DOCUMENT_MAX_BYTES}, as the ingest-worker refuses beyond it
     */
    public DocumentsApi(DocumentPublisher publisher, int maxContentBytes) {
        this.publisher = publisher;
        this.codec = new DocumentCodec(maxContentBytes);
    }

    public void register(ApiRoutes routes) {
        routes.get("/documents", Role.VIEWER, "List documents, filtered by collection, status and text", this::list)
                .describe(r -> r.paged()
                        .query("collection", "only this collection's", Schemas.string())
                        .query("status", "only documents in this status", Schemas.enumeration(statuses()))
                        .query("q", "text in the document's id or title (case-insensitive)", Schemas.string())
                        .description("Newest first (by id).")
                        .answers(200, "a page of documents", Schemas.page(itemSchema())));
        routes.get("/documents/{id}", Role.VIEWER, "One document with its chunks and vector state", this::get)
                .describe(r -> r.answers(200, "the document", documentSchema()).fails(404, "no document with that id"));
        routes.post("/documents", Role.OPERATOR, "Publish a document to the documents topic", this::publish)
                .describe(r -> r.description("The body is a documents topic message (the contract's JSON: op,"
                                + " collection, id, title, content, source, metadata, version); it is published to"
                                + " Kafka with the key collection/id, as any producer does.")
                        .body(Schemas.anyObject())
                        .answers(202, "Kafka acknowledged the record", publishedSchema())
                        .fails(422, "the message breaks the documents contract, or its collection does not exist"));
        routes.delete("/documents/{id}", Role.OPERATOR, "Delete a document (a delete through Kafka)", this::delete)
                .describe(r -> r.description("Publishes {op: delete} for the document's collection/id; the"
                                + " ingest-worker removes its chunks and vectors and keeps the row as deleted.")
                        .answers(202, "Kafka acknowledged the delete", publishedSchema())
                        .fails(404, "no document with that id")
                        .fails(409, "the document is deleted already"));
        routes.post("/documents/{id}/reembed", Role.OPERATOR, "Compute a document's vectors again", this::reembed)
                .describe(r -> r.answers(
                                202,
                                "the document is waiting for its vectors",
                                Schemas.required(Schemas.object("documents", Schemas.integer()), "documents"))
                        .fails(404, "no document with that id")
                        .fails(409, "the document is deleted: nothing to embed"));
    }

    private ApiResponse list(ApiRequest req) throws Exception {
        Page.Request page = req.page();
        DocumentStatus status = req.query("status").map(DocumentsApi::status).orElse(null);
        DocumentQueries.Filter filter = new DocumentQueries.Filter(
                req.query("collection").orElse(null), status, req.query("q").orElse(null));
        Long before = page.afterId().orElse(null);
        List<ObjectNode> rows;
        try (Connection c = req.database().getConnection()) {
            rows = queries.list(c, filter, before, page.fetchSize());
        }
        return ApiResponse.ok(Page.of(page, rows, row -> row.get("id").asText()));
    }

    private static DocumentStatus status(String text) {
        try {
            return DocumentStatus.fromStored(text);
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest("status: one of " + Arrays.toString(statuses()) + ", not '" + text + "'");
        }
    }

    private ApiResponse get(ApiRequest req) throws Exception {
        long id = req.pathId("id");
        try (Connection c = req.database().getConnection()) {
            return ApiResponse.ok(queries.get(c, id).orElseThrow(() -> noDocument(id)));
        }
    }

    private ApiResponse publish(ApiRequest req) throws Exception {
        ObjectNode body = req.object();
        DocumentMessage message;
        try {
            message = codec.decode(key(body), Json.MAPPER.writeValueAsBytes(body));
        } catch (InvalidMessageException e) {
            throw ApiProblem.unprocessable(
                    "the documents contract refuses it: " + e.getMessage(), Map.of("body", e.getMessage()));
        }
        try (Connection c = req.database().getConnection()) {
            if (CollectionCatalog.stored(c, message.collection()) == null) {
                throw ApiProblem.unprocessable(
                        "no collection named '" + message.collection() + "'",
                        Map.of("collection", "no collection named '" + message.collection() + "'"));
            }
        }
        return published(publisher.topic(), send(message))
                .withOutcome(message.op().json() + " " + message.key() + " published");
    }

    /** The key the message says it has: its collection (or the default) and id, as given. */
    private static String key(ObjectNode body) {
        JsonNode collection = body.path("collection");
        JsonNode id = body.path("id");
        return (collection.isTextual() ? collection.asText() : DocumentCodec.DEFAULT_COLLECTION) + "/"
                + (id.isTextual() ? id.asText() : "");
    }

    private ApiResponse delete(ApiRequest req) throws Exception {
        long id = req.pathId("id");
        DocumentMessage delete;
        try (Connection c = req.database().getConnection();
                PreparedStatement s = c.prepareStatement("select k.name, d.external_id, d.status from documents d join"
                        + " collections k on k.id = d.collection_id where d.id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw noDocument(id);
                }
                if (DocumentStatus.fromStored(rs.getString(3)) == DocumentStatus.DELETED) {
                    throw ApiProblem.conflict("document " + id + " is deleted already");
                }
                // No version: the ingest-worker gives it the stored version plus one (the contract's rule).
                delete = new DocumentMessage(
                        DocumentMessage.Op.DELETE, rs.getString(1), rs.getString(2), null, null, null, Map.of(), null);
            }
        }
        return published(publisher.topic(), send(delete)).withOutcome("delete " + delete.key() + " published");
    }

    private ApiResponse reembed(ApiRequest req) throws Exception {
        long id = req.pathId("id");
        Registry.inTransaction(req.database(), c -> {
            Reembedding.document(c, id);
            return null;
        });
        return ApiResponse.accepted(Json.object().put("documents", 1)).withOutcome("document " + id + " asked for");
    }

    /**
     * Publishes {@code message}, waiting for Kafka: 503 when Kafka refuses it (nothing was published)
     * or does not answer within {@link #ACK_TIMEOUT} (it may still arrive; publishing it again is
     * harmless, as for any producer: the ingest-worker's versions and content hashes make a repeat a
     * no-op).
     */
    private RecordMetadata send(DocumentMessage message) throws InterruptedException {
        try {
            return publisher.publish(message, ACK_TIMEOUT);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw ApiProblem.unavailable("Kafka refused the record for " + message.key() + " ("
                    + cause.getClass().getSimpleName() + "): nothing was published, try again");
        } catch (TimeoutException e) {
            throw ApiProblem.unavailable("Kafka did not acknowledge the record for " + message.key() + " within "
                    + ACK_TIMEOUT.toSeconds() + " s: it may still be published; sending it again is harmless");
        }
    }

    private static ApiResponse published(String topic, RecordMetadata meta) {
        return ApiResponse.accepted(Json.object()
                .put("topic", topic)
                .put("partition", meta.partition())
                .put("offset", meta.offset()));
    }

    private static ApiProblem noDocument(long id) {
        return ApiProblem.notFound("no document with id " + id);
    }

    private static String[] statuses() {
        return Arrays.stream(DocumentStatus.values())
                .map(DocumentStatus::stored)
                .toArray(String[]::new);
    }

    private static ObjectNode publishedSchema() {
        return Schemas.required(
                Schemas.object("topic", Schemas.string(), "partition", Schemas.integer(), "offset", Schemas.integer()),
                "topic",
                "partition",
                "offset");
    }

    static ObjectNode itemSchema() {
        return Schemas.required(
                Schemas.object(
                        "id", Schemas.integer(),
                        "collection", Schemas.string(),
                        "external_id", Schemas.string(),
                        "title", Schemas.nullable(Schemas.string()),
                        "status", Schemas.enumeration(statuses()),
                        "version", Schemas.integer(),
                        "chunk_count", Schemas.integer(),
                        "error", Schemas.nullable(Schemas.string()),
                        "updated_at", Schemas.dateTime()),
                "id",
                "collection",
                "external_id",
                "title",
                "status",
                "version",
                "chunk_count",
                "error",
                "updated_at");
    }

    private static ObjectNode documentSchema() {
        ObjectNode s = itemSchema();
        ObjectNode properties = (ObjectNode) s.get("properties");
        properties.set("source", Schemas.nullable(Schemas.string()));
        properties.set("metadata", Schemas.anyObject());
        properties.set(
                "chunks",
                Schemas.array(Schemas.required(
                        Schemas.object(
                                "seq", Schemas.integer(),
                                "content", Schemas.string(),
                                "token_count", Schemas.integer(),
                                "embedded", Schemas.bool(),
                                "model", Schemas.nullable(Schemas.string())),
                        "seq",
                        "content",
                        "token_count",
                        "embedded",
                        "model")));
        ((com.fasterxml.jackson.databind.node.ArrayNode) s.get("required"))
                .add("source")
                .add("metadata")
                .add("chunks");
        return s;
    }
}
