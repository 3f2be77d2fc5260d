package io.ragline.embeddings.chunking;

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
    private static final TokenCounter COUNTER = counter();

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
    void theRenderedChunkTitleIncludedStaysWithinTheChunkSize() throws IOException {
        String text = TextNormalizer.normalize(Files.readString(Path.of("../README.md")));
        String title = "Ragline: keeping a retrieval store in PostgreSQL fresh from Kafka";

        List<RecursiveChunker.Chunk> chunks = MINILM.chunk(collection(64, 8), title, text);

        assertThat(chunks).hasSizeGreaterThan(20);
        assertThat(chunks).allSatisfy(c -> {
            assertThat(c.text()).startsWith(title + "\n");
            assertThat(c.tokens()).isLessThanOrEqualTo(64).isEqualTo(COUNTER.count(c.text()));
        });
    }

    @Test
    void aTitleTooLongForTheChunkSizeIsShortenedToAQuarterOfIt() {
        String title = "A title that goes on and on, ".repeat(10).strip();

        List<RecursiveChunker.Chunk> chunks =
                MINILM.chunk(collection(64, 8), title, "A short text of one sentence. And one more.");

        assertThat(chunks).singleElement().satisfies(c -> {
            assertThat(c.tokens()).isLessThanOrEqualTo(64);
            assertThat(c.text())
                    .startsWith("A title that goes on")
                    .endsWith("\nA short text of one sentence. And one more.");
            assertThat(COUNTER.count(c.text().substring(0, c.text().indexOf('\n'))))
                    .isLessThanOrEqualTo(16);
        });
    }

    @Test
    void aCollectionOfAnotherProvidersModelIsChunkedWithMiniLmsTokenizerAndWindow() throws IOException {
        Collection openai = new Collection(
                2, "remote", "openai", "text-embedding-3-small", 1536, 1000, 32, "{title}\n{chunk}", "active");
        String text = TextNormalizer.normalize(Files.readString(Path.of("../README.md")));

        List<RecursiveChunker.Chunk> chunks =
                new ModelTokenCounter.Chunkers().apply(openai).chunk(openai, "T", text);

        assertThat(chunks)
                .allSatisfy(c ->
                        assertThat(c.tokens()).isLessThanOrEqualTo(WINDOW - 2).isEqualTo(COUNTER.count(c.text())));
        assertThat(chunks).anySatisfy(c -> assertThat(c.tokens()).isGreaterThan(200));
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
        return ModelTokenCounter.forModel(ModelCatalog.get("all-MiniLM-L6-v2"));
    }
}
