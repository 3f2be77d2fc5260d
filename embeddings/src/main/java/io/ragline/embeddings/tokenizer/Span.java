package io.ragline.embeddings.tokenizer;

/**
 * One word piece of a text: its vocabulary id and where it came from in the original text, as
 * UTF-16 offsets {@code [start, end)} ({@code text.substring(start, end)} is the piece as written,
 * before lowercasing and accent stripping). Pieces of one word are adjacent; characters the
 * tokenizer dropped (whitespace, control characters) lie between spans.
 */
public record Span(int id, int start, int end) {}
