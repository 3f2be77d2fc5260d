package io.ragline.benchmarks.corpus;

import java.util.Objects;

/**
 * One document of a benchmark corpus, as both sides ingest it: Ragline publishes it to the
 * {@code documents} topic (id, title, content), the LangChain4j peer makes a {@code Document}
 * of it with the title in front of each segment.
 */
public record CorpusDocument(String id, String title, String text) {
    public CorpusDocument {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("a corpus document needs an id");
        }
        Objects.requireNonNull(title, () -> "document " + id + " has no title");
        Objects.requireNonNull(text, () -> "document " + id + " has no text");
    }

    /** The text's length in characters (code points), as {@code wc -m} counts them. */
    public long chars() {
        return text.codePointCount(0, text.length());
    }
}
