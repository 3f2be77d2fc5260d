package io.ragline.embeddings.chunking;

/**
 * The embedding model's own tokenizer, as the chunker needs it: how many tokens a text has (no
 * special tokens), where in a text the first {@code tokens} tokens end, and where each token of a
 * text starts and ends.
 */
public interface TokenCounter {
    int count(String text);

    /** The number of leading characters of {@code text} that hold at most {@code tokens} tokens. */
    int prefixChars(String text, int tokens);

    /**
     * The UTF-16 offsets in {@code text} of its tokens, in order: {@code [start0, end0, start1,
     * end1, ...]}, so that one pass over a document gives the token count of any part of it cut
     * between words.
     */
    int[] offsets(String text);
}
