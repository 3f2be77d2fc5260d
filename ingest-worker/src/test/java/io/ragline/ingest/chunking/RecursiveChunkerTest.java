package io.ragline.ingest.chunking;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.collections.Collection;
import io.ragline.embeddings.ModelCatalog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecursiveChunkerTest {
    private static final DocumentChunker MINILM = new ModelTokenCounter.Chunkers().apply(collection(256, 32));
    private static final int WINDOW = ModelCatalog.get("all-MiniLM-L6-v2").maxTokens();

    private static Collection collection(int size, int overlap) {
        return new Collection(
                1, "default", "onnx", "all-MiniLM-L6-v2", 384, size, overlap, "{title}\n{chunk}", "active");
    }

    @Test
    void aLongRealTextBecomesChunksThatNeverExceedTheModelsWindow() throws IOException {
        String text = TextNormalizer.normalize(Files.readString(Path.of("../README.md")));

        List<RecursiveChunker.Chunk> chunks = MINILM.chunk(collection(256, 32), "Ragline README", text);

        assertThat(chunks).hasSizeGreaterThan(5);
        assertThat(chunks).allSatisfy(c -> {
            assertThat(c.tokens()).isLessThanOrEqualTo(WINDOW - 2);
            assertThat(c.text()).startsWith("Ragline README\n");
        });
    }

    @Test
    void shortTextIsOneChunkWithItsTitle() {
        List<RecursiveChunker.Chunk> chunks = MINILM.chunk(collection(256, 32), "Title", "Just one sentence.");

        assertThat(chunks).extracting(RecursiveChunker.Chunk::text).containsExactly("Title\nJust one sentence.");
    }

    @Test
    /** Overlap is made of whole pieces: here the last paragraph (about 25 tokens) of each chunk. */
    void paragraphsAreKeptWholeWhenTheyFitAndConsecutiveChunksOverlap() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            text.append("Paragraph ")
                    .append(i)
                    .append(" talks about topic number ")
                    .append(i)
                    .append(". ");
            text.append("It has a second sentence that is somewhat longer than the first one.\n\n");
        }
        RecursiveChunker chunker = new RecursiveChunker(counter());

        List<RecursiveChunker.Chunk> chunks = chunker.chunk(text.toString(), 80, 30);

        assertThat(chunks).hasSizeGreaterThan(3);
        assertThat(chunks).allSatisfy(c -> assertThat(c.tokens()).isLessThanOrEqualTo(80));
        for (int i = 1; i < chunks.size(); i++) {
            String previous = chunks.get(i - 1).text();
            String tail = previous.substring(previous.lastIndexOf("Paragraph"));
            assertThat(chunks.get(i).text())
                    .as("chunk %s starts with the end of chunk %s", i, i - 1)
                    .startsWith(tail);
        }
    }

    @Test
    void oneHugeWordWithoutSpacesIsCutAtTokenBoundaries() {
        String word = "x".repeat(5000);
        RecursiveChunker chunker = new RecursiveChunker(counter());

        List<RecursiveChunker.Chunk> chunks = chunker.chunk(word, 50, 0);

        assertThat(chunks).allSatisfy(c -> assertThat(c.tokens()).isLessThanOrEqualTo(50));
        assertThat(String.join(
                        "", chunks.stream().map(RecursiveChunker.Chunk::text).toList()))
                .isEqualTo(word);
    }

    @Test
    void normalisationMakesEquivalentTextsEqual() {
        assertThat(TextNormalizer.normalize("  Caf\u0065\u0301\r\n\r\n\r\n\r\nline\t\t two  \u0000"))
                .isEqualTo(TextNormalizer.normalize("Café\n\nline two"));
    }

    private static TokenCounter counter() {
        var tokenizer =
                io.ragline.embeddings.tokenizer.WordPieceTokenizer.forModel(ModelCatalog.get("all-MiniLM-L6-v2"));
        return new TokenCounter() {
            @Override
            public int count(String text) {
                return tokenizer.countTokens(text);
            }

            @Override
            public int prefixChars(String text, int tokens) {
                return tokenizer.cutAfterTokens(text, tokens);
            }
        };
    }
}
