package io.ragline.embeddings.chunking;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.collections.Collection;
import io.ragline.embeddings.ModelCatalog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Chunk boundaries are chosen by the text around them: an edit re-cuts the chunks near it and
 * leaves the others as they were, so their vectors can be kept. Measured on real texts (the
 * licences Debian ships) with 256-token chunks and 32 of overlap (the default until V33; 128/16 since).
 */
class ChunkStabilityTest {
    private static final Collection COLLECTION =
            new Collection(1, "default", "onnx", "all-MiniLM-L6-v2", 384, 256, 32, "{title}\n{chunk}", "active");
    private static final TokenCounter TOKENS = ModelTokenCounter.forModel(ModelCatalog.get("all-MiniLM-L6-v2"));
    private static final String INSERTED = "A sentence the edit inserted, about something else entirely. ";

    @ParameterizedTest
    @ValueSource(strings = {"GPL-3", "GPL-2", "MPL-2.0", "GFDL-1.3", "Apache-2.0"})
    void editingAnyOneParagraphChangesAboutOneChunkAndRarelyMoreThanItsNeighbours(String licence) throws IOException {
        String text = licence(licence);
        List<String> paragraphs = List.of(text.split("\n\n"));
        List<String> before = chunk(licence, text);
        int changedInAll = 0;
        int moreThanThree = 0;
        for (int i = 0; i < paragraphs.size(); i++) {
            List<String> edited = new ArrayList<>(paragraphs);
            edited.set(i, INSERTED + paragraphs.get(i));

            int changed = changed(before, chunk(licence, String.join("\n\n", edited)));

            assertThat(changed).as("paragraph %s", i).isBetween(1, 8);
            changedInAll += changed;
            moreThanThree += changed > 3 ? 1 : 0;
        }
        assertThat((double) changedInAll / paragraphs.size())
                .as("chunks changed per edited paragraph")
                .isLessThanOrEqualTo(2.0);
        assertThat(moreThanThree)
                .as("edits that changed more than three chunks")
                .isLessThanOrEqualTo(paragraphs.size() / 20);
    }

    @Test
    void aParagraphInsertedAtTheStartLeavesTheChunksAfterItAsTheyWere() throws IOException {
        String text = licence("GPL-3");
        List<String> before = chunk("GPL-3", text);

        List<String> after = chunk(
                "GPL-3", "A new first paragraph, written for this test, that the old text did not have.\n\n" + text);

        assertThat(before).hasSizeGreaterThan(30);
        assertThat(changed(before, after)).isLessThanOrEqualTo(2);
    }

    @Test
    void aGreedyPackerWouldHaveShiftedEveryLaterBoundaryButTheseChunksRealign() throws IOException {
        // Many short paragraphs of one size: a greedy packer cuts after the same number of them,
        // so one more paragraph early on shifts every later cut.
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            text.append("Paragraph ")
                    .append(i)
                    .append(" says one thing about topic ")
                    .append(i * 7 % 13)
                    .append(".\n\n");
        }
        List<String> before = chunk("T", text.toString());

        List<String> after = chunk("T", "One more paragraph.\n\n" + text);

        assertThat(before).hasSizeGreaterThan(10);
        assertThat(changed(before, after)).isLessThanOrEqualTo(3);
    }

    @Test
    void eachChunksTokenCountIsTheTokenizersOwnCountThoughTheTextIsTokenizedOnce() throws IOException {
        String text = licence("GPL-3") + "\n\n" + "x".repeat(3000) + " " + "supercalifragilistic".repeat(40);
        CountingTokens counting = new CountingTokens();

        List<RecursiveChunker.Chunk> chunks = new RecursiveChunker(counting).chunk(text, 128, 16);

        assertThat(chunks)
                .hasSizeGreaterThan(30)
                .allSatisfy(c -> assertThat(c.tokens()).isLessThanOrEqualTo(128).isEqualTo(TOKENS.count(c.text())));
        assertThat(counting.chars).as("characters tokenized").isLessThan(text.length() * 11L / 10);
    }

    @Test
    void renderingAndCheckingTheChunksTokenizesTheDocumentAboutTwiceNotThreeAndAHalfTimes() throws IOException {
        String text = licence("GPL-3");
        CountingTokens counting = new CountingTokens();

        List<RecursiveChunker.Chunk> chunks = new DocumentChunker(counting, 256).chunk(COLLECTION, "GPL-3", text);

        assertThat(chunks).allSatisfy(c -> assertThat(c.tokens()).isEqualTo(TOKENS.count(c.text())));
        assertThat(counting.chars).as("characters tokenized").isLessThan(text.length() * 5L / 2);
    }

    private static String licence(String name) throws IOException {
        return TextNormalizer.normalize(Files.readString(Path.of("/usr/share/common-licenses", name)));
    }

    private static List<String> chunk(String title, String text) {
        return new DocumentChunker(TOKENS, 256)
                .chunk(COLLECTION, title, text).stream()
                        .map(RecursiveChunker.Chunk::text)
                        .toList();
    }

    /** How many chunks of {@code after} no chunk of {@code before} matches, one to one. */
    private static int changed(List<String> before, List<String> after) {
        Map<String, Integer> left = new HashMap<>();
        before.forEach(t -> left.merge(t, 1, Integer::sum));
        int changed = 0;
        for (String t : after) {
            if (left.getOrDefault(t, 0) == 0) {
                changed++;
            } else {
                left.merge(t, -1, Integer::sum);
            }
        }
        return changed;
    }

    /** The model's tokenizer, counting the characters it is given. */
    private static final class CountingTokens implements TokenCounter {
        long chars;

        @Override
        public int count(String text) {
            chars += text.length();
            return TOKENS.count(text);
        }

        @Override
        public int prefixChars(String text, int tokens) {
            chars += text.length();
            return TOKENS.prefixChars(text, tokens);
        }

        @Override
        public int[] offsets(String text) {
            chars += text.length();
            return TOKENS.offsets(text);
        }
    }
}
