package io.ragline.benchmarks.corpus;

/** A query whose one right answer is the document {@code id} (known-item search). */
public record KnownItemQuery(String query, String id) {
    public KnownItemQuery {
        if (query == null || query.isBlank()) {
            throw new IllegalArgumentException("a known-item query needs its text (expected document " + id + ")");
        }
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("the query '" + query + "' names no expected document id");
        }
    }
}
