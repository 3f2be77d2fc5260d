package io.ragline.contracts.pipeline;

/**
 * {@code document.embedded}, {@code document.failed} or {@code document.deleted}.
 *
 * @param chunks the chunks embedded (or that failed), null for a delete
 * @param model the embedding model of {@code document.embedded}, else null
 * @param error why {@code document.failed}, else null
 */
public record DocumentEvent(
        Type type, String collection, String id, long version, Integer chunks, String model, String error)
        implements PipelineEvent {

    public DocumentEvent {
        if (!type.isDocument()) {
            throw new IllegalArgumentException(type.json() + " is not a document event");
        }
    }

    public static DocumentEvent deleted(String collection, String id, long version) {
        return new DocumentEvent(Type.DOCUMENT_DELETED, collection, id, version, null, null, null);
    }

    @Override
    public String key() {
        return collection + "/" + id;
    }
}
