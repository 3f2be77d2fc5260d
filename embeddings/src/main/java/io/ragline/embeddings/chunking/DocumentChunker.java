package io.ragline.embeddings.chunking;

import io.ragline.core.collections.Collection;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a document into the texts its collection embeds: the collection's template (such as
 * {@code {title}\n{chunk}}) around each chunk. The rendered text, template and title included, is
 * what the model sees, so that is what is held to the collection's chunk size and to the model's
 * window ({@code windowTokens}, special tokens included). A title that would take more than half
 * of that is shortened to a quarter of it. Only a template whose own words take more than half the
 * chunk size makes a rendered text longer than the chunk size (its chunk text keeps half of it);
 * the window holds in every case.
 */
public final class DocumentChunker {
    /** The two special tokens ([CLS], [SEP]) every input carries. */
    private static final int SPECIAL_TOKENS = 2;

    private final TokenCounter tokens;
    private final RecursiveChunker chunker;
    private final int windowTokens;

    public DocumentChunker(TokenCounter tokens, int windowTokens) {
        this.tokens = tokens;
        this.chunker = new RecursiveChunker(tokens);
        this.windowTokens = windowTokens;
    }

    /** The rendered chunks of one document, in order, with their token counts. */
    public List<RecursiveChunker.Chunk> chunk(Collection collection, String title, String content) {
        int window = windowTokens - SPECIAL_TOKENS;
        int limit = Math.min(collection.chunkSizeTokens(), window);
        String shownTitle = title == null ? "" : title;
        int frame = tokens.count(collection.render(shownTitle, ""));
        if (limit - frame < limit / 2) {
            shownTitle = shownTitle.substring(0, tokens.prefixChars(shownTitle, limit / 4));
            frame = tokens.count(collection.render(shownTitle, ""));
        }
        // One token of slack: the frame and the chunk can tokenize differently once joined.
        int budget = Math.max(1, Math.min(window - frame - 1, Math.max(limit - frame - 1, limit / 2)));
        int overlap = Math.min(collection.chunkOverlapTokens(), budget - 1);
        List<RecursiveChunker.Chunk> out = new ArrayList<>();
        for (RecursiveChunker.Chunk c : chunker.chunk(content, budget, overlap)) {
            String rendered = collection.render(shownTitle, c.text());
            int count = tokens.count(rendered);
            if (count > window) { // the frame and the chunk joined differently: trim to fit
                rendered = rendered.substring(0, tokens.prefixChars(rendered, window));
                count = tokens.count(rendered);
            }
            out.add(new RecursiveChunker.Chunk(rendered, count));
        }
        return out;
    }
}
