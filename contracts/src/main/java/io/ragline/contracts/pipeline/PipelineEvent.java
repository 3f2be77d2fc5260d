package io.ragline.contracts.pipeline;

import java.util.Arrays;
import java.util.Optional;

/**
 * A value of {@code pipeline-events} (pipeline-events.schema.json): what happened to a document
 * ({@link DocumentEvent}, key {@code collection/id}), a training job ({@link TrainingEvent},
 * key: the project) or a collection ({@link CollectionEvent}, key: its name). Written to the outbox in the transaction that made it true.
 */
public sealed interface PipelineEvent permits DocumentEvent, TrainingEvent, CollectionEvent {
    Type type();

    /** The Kafka key the event is written under. */
    String key();

    enum Type {
        DOCUMENT_EMBEDDED("document.embedded"),
        DOCUMENT_FAILED("document.failed"),
        DOCUMENT_DELETED("document.deleted"),
        TRAINING_SUCCEEDED("training.succeeded"),
        TRAINING_FAILED("training.failed"),
        TRAINING_CANCELLED("training.cancelled"),
        COLLECTION_MIGRATED("collection.migrated");

        private final String json;

        Type(String json) {
            this.json = json;
        }

        /** As the contract spells it. */
        public String json() {
            return json;
        }

        public boolean isDocument() {
            return json.startsWith("document.");
        }

        public boolean isCollection() {
            return json.startsWith("collection.");
        }

        public static Optional<Type> of(String json) {
            return Arrays.stream(values()).filter(t -> t.json.equals(json)).findFirst();
        }
    }
}
