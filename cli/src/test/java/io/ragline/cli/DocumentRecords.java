package io.ragline.cli;

import io.ragline.contracts.Topic;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.contracts.document.DocumentMessage;
import io.ragline.testkit.ParagraphCorpus;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The records the pipeline tests publish to the {@code documents} topic, written by the topic's own
 * codec (the one home of its format), keyed {@code collection/id} as producers must.
 */
final class DocumentRecords {
    private static final DocumentCodec CODEC = new DocumentCodec(Integer.MAX_VALUE);

    private DocumentRecords() {}

    /** An upsert of {@code d} at {@code version} into the default collection, its id as its title. */
    static ProducerRecord<String, String> upsert(String topicPrefix, ParagraphCorpus.Document d, long version) {
        DocumentMessage m = new DocumentMessage(
                DocumentMessage.Op.UPSERT,
                DocumentCodec.DEFAULT_COLLECTION,
                d.id(),
                d.id(),
                d.text(),
                null,
                Map.of(),
                version);
        return new ProducerRecord<>(topicPrefix + Topic.DOCUMENTS.topic(), m.key(), CODEC.encode(m));
    }
}
