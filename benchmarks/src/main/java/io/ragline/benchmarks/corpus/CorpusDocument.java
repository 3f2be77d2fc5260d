package io.ragline.benchmarks.corpus;

/** One document of a benchmark corpus: its id (the known item's answer), title and plain text. */
public record CorpusDocument(String id, String title, String text) {}
