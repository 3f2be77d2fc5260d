package io.ragline.training.predict;

/** A {@code document.embedded} event of {@code pipeline-events}; null fields for any other event. */
public record EmbeddedDocument(String collection, String id, long version) {
    /** Another kind of event: nothing to predict. */
    public static final EmbeddedDocument IGNORED = new EmbeddedDocument(null, null, -1);
}
