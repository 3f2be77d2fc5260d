package io.ragline.core.documents;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.contracts.document.DocumentMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Publishes documents to the {@code documents} topic as any producer does: the value is the
 * contract's JSON, the key {@code collection/id} (so a document's records share a partition and
 * keep their order). The one way Ragline's own code publishes a document: {@code ragline publish}
 * (many, asynchronously) and the HTTP API's {@code POST /documents} and {@code DELETE
 * /documents/{id}} (one, waiting for Kafka's acknowledgement). It does not own the producer.
 */
public final class DocumentPublisher {
    private static final DocumentCodec CODEC = new DocumentCodec(Integer.MAX_VALUE);

    private final Producer<byte[], byte[]> producer;
    private final String topic;

    /** @param topic the documents topic with {@code RAGLINE_TOPIC_PREFIX} ({@code CoreSettings.topic}) */
    public DocumentPublisher(Producer<byte[], byte[]> producer, String topic) {
        this.producer = producer;
        this.topic = topic;
    }

    public String topic() {
        return topic;
    }

    /**
     * Sends {@code document} (a JSON object with a string {@code collection} and {@code id}) as it
     * is; {@code callback} hears the outcome. A send refused at once throws Kafka's exception.
     */
    public Future<RecordMetadata> send(JsonNode document, Callback callback) {
        String key =
                document.get("collection").asText() + "/" + document.get("id").asText();
        return producer.send(
                new ProducerRecord<>(
                        topic,
                        key.getBytes(StandardCharsets.UTF_8),
                        document.toString().getBytes(StandardCharsets.UTF_8)),
                callback);
    }

    /**
     * Publishes {@code message} (encoded by {@link DocumentCodec}) and waits up to {@code timeout}
     * for Kafka's acknowledgement.
     *
     * @throws ExecutionException when Kafka refused it; TimeoutException when it did not answer in time
     */
    public RecordMetadata publish(DocumentMessage message, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(
                topic,
                message.key().getBytes(StandardCharsets.UTF_8),
                CODEC.encode(message).getBytes(StandardCharsets.UTF_8));
        return producer.send(record).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
