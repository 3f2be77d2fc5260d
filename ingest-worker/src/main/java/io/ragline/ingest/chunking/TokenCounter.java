package io.ragline.ingest.chunking;

/**
 * The embedding model's own tokenizer, as the chunker needs it: how many tokens a text has (no
 * special tokens), and where in a text the first {@code tokens} tokens end.
 */
public interface TokenCounter {
    int count(String text);

    /** The number of leading characters of {@code text} that hold at most {@code tokens} tokens. */
    int prefixChars(String text, int tokens);
}
