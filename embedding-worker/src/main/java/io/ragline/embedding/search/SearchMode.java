package io.ragline.embedding.search;

import java.util.Locale;

/**
 * How {@code search_documents} ranks chunks: by the query's vector, by full text (the collection's
 * text-search configuration), or both fused by reciprocal rank fusion. Stored and sent as its
 * lower-case name.
 */
public enum SearchMode {
    VECTOR,
    TEXT,
    HYBRID;

    /**
     * The mode of a request that names none: hybrid, the best on the retrieval-quality benchmark
     * for each of the four bundled models (MRR@10 +0.006 to +0.010 over vector alone, each beyond
     * its ±0.005 at 95 %; docs/benchmarks.md). {@code search_documents} chooses it too when given
     * both the vector and the text.
     */
    public static final SearchMode DEFAULT = HYBRID;

    /** The name on the wire and in SQL: {@code vector}, {@code text}, {@code hybrid}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The mode named {@code wire}, or null when it names none. */
    public static SearchMode fromWire(String wire) {
        for (SearchMode m : values()) {
            if (m.wire().equals(wire)) {
                return m;
            }
        }
        return null;
    }

    /** Whether the query is embedded: vector and hybrid search need its vector, text search does not. */
    public boolean needsVector() {
        return this != TEXT;
    }
}
