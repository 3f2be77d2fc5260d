package io.ragline.embeddings.chunking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.ragline.embeddings.ModelCatalog;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Inputs the anchor rule first got wrong (found in review): breaks that tie, and pieces the
 * tokenizer sees no token in. Neither may turn chunking into a stall or a chunk per line.
 */
class UnusualInputsChunkTest {
    private static final TokenCounter TOKENS = ModelTokenCounter.forModel(ModelCatalog.get("all-MiniLM-L6-v2"));

    private static String words(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append("word").append(i % 97).append(' ');
        }
        return b.toString();
    }

    /**
     * An ideographic space survives normalisation but is no token: 200,000 such lines sit at one
     * token position. Quadratic, this took minutes; the bound is a stall guard, not a speed target.
     */
    @Test
    void aMegabyteOfLinesWithoutATokenIsChunkedWithoutStalling() {
        String text = TextNormalizer.normalize(words(400) + "\n\u3000".repeat(200_000) + "\n" + words(400));
        assertThat(text.getBytes(StandardCharsets.UTF_8).length).isLessThan(1024 * 1024);

        List<RecursiveChunker.Chunk> chunks = assertTimeoutPreemptively(
                Duration.ofSeconds(30), () -> new RecursiveChunker(TOKENS).chunk(text, 253, 32));

        assertThat(chunks).allSatisfy(c -> assertThat(c.tokens()).isLessThanOrEqualTo(253));
        assertThat(String.join(
                        " ", chunks.stream().map(RecursiveChunker.Chunk::text).toList()))
                .contains("word0", "word96");
    }

    /** A table of identical lines: equal breaks used to tie, so every line became an anchor and a chunk. */
    @Test
    void identicalLinesArePackedIntoChunksOfAReasonableSize() {
        String text = "A heading line\n" + "The same line of a table, again and again.\n".repeat(600);
        int total = TOKENS.count(text);

        List<RecursiveChunker.Chunk> chunks = new RecursiveChunker(TOKENS).chunk(text, 250, 32);

        // Anchors are at least 40 % of a chunk apart: chunks hold at least that much on average.
        assertThat(chunks.size()).isLessThanOrEqualTo(total / (250 * 40 / 100) + 2);
        assertThat(chunks).allSatisfy(c -> assertThat(c.tokens()).isLessThanOrEqualTo(250));
    }
}
