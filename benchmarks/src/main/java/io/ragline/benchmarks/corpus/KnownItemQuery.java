package io.ragline.benchmarks.corpus;

/** A known-item query: {@code query} should find the document {@code id}. */
public record KnownItemQuery(String query, String id) {}
