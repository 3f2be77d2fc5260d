package io.ragline.embeddings.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import io.ragline.embeddings.EmbeddingModelSpec;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.embeddings.ModelResources;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Our tokenizer against an independent one: HuggingFace's Rust {@code tokenizers} (through DJL's
 * JNI binding, whose jar ships the native library, so this runs offline), loaded from the same
 * {@code tokenizer.json}. Every id and every character offset must agree.
 */
class WordPieceTokenizerTest {
    private static final EmbeddingModelSpec MINILM = ModelCatalog.get("all-MiniLM-L6-v2");
    private static final EmbeddingModelSpec BGE = ModelCatalog.get("bge-small-en-v1.5");

    private static WordPieceTokenizer ours;
    private static WordPieceTokenizer oursBge;
    private static HuggingFaceTokenizer reference;
    private static HuggingFaceTokenizer referenceBge;

    @BeforeAll
    static void load() throws IOException {
        ours = WordPieceTokenizer.forModel(MINILM);
        oursBge = WordPieceTokenizer.forModel(BGE);
        reference = referenceFor(MINILM);
        referenceBge = referenceFor(BGE);
    }

    private static HuggingFaceTokenizer referenceFor(EmbeddingModelSpec spec) throws IOException {
        return HuggingFaceTokenizer.newInstance(
                new ByteArrayInputStream(ModelResources.tokenizerJson(spec)),
                Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"));
    }

    @AfterAll
    static void close() {
        reference.close();
        referenceBge.close();
    }

    static Stream<String> tricky() {
        return Stream.of(
                "Hello, world!",
                "",
                "   ",
                "The quick brown fox jumps over the lazy dog.",
                "embeddings tokenization unbelievably antidisestablishmentarianism",
                "Café naïve façade résumé Ångström Straße İstanbul ΣΊΣΥΦΟΣ",
                "Crème brûlée à la carte, piñata, jalapeño, Dvořák, Łódź",
                "中文分词测试：我爱北京天安门。",
                "日本語のテキストとカタカナ、ひらがな",
                "한국어 텍스트도 있습니다",
                "Привет, мир! Ελληνικά κείμενα. مرحبا بالعالم. שלום עולם",
                "emoji 😀🎉👍🏽 and 👨‍👩‍👧 family, ✓ ✗ ☃ ♥",
                "tabs\tand\nnewlines\r\nand\u00a0no-break\u2003em\u3000ideographic spaces",
                "zero\u200bwidth\u200djoiner\u200c and soft\u00adhyphen and bom\ufeffhere",
                "control\u0000chars\u0007bell\u001bescape\u007fdel\ufffdreplacement",
                "punctuation!!! ?¿ ¡ «quotes» “curly” ‘single’ — dash – en … ellipsis",
                "symbols $100 + 5% = <tag> ^caret `tick` |pipe| ~tilde @at #hash &amp; *star*",
                "math ∑ ∫ √ ≤ ≥ ≠ ∞ ± × ÷ and currency € £ ¥ ₹ ₿",
                "url https://example.com/path?query=1&x=y#frag and mail a.b@c.org",
                "code: for (int i = 0; i < n; i++) { sum += a[i]; } // done",
                "x".repeat(99) + " " + "y".repeat(100) + " " + "z".repeat(101),
                "supercalifragilisticexpialidocious".repeat(3) + " pneumonoultramicroscopicsilicovolcanoconiosis",
                "literal special tokens [CLS] and [SEP] and [MASK] and [UNK] and [PAD] [sep]",
                "numbers 3.14159 1,000,000 2024-01-15T10:30:00Z 0x1F 1e-10",
                "mixed日本English混合text",
                "combining e\u0301 a\u0300 o\u0308 and precomposed é à ö",
                "fullwidth ＡＢＣ１２３ and ligature ﬁ ﬂ and roman Ⅻ",
                "Ⓐ ⓑ ① ⑴ 𝐀𝐁𝐂 𝕏 math bold",
                "ǅ ǈ titlecase and ẞ capital sharp s and ſ long s",
                "Thai ภาษาไทย Devanagari हिन्दी Tamil தமிழ் Georgian ქართული",
                "private use \ue000\uf8ff and cuneiform 𒀀 and old italic 𐌀");
    }

    @ParameterizedTest
    @MethodSource("tricky")
    void idsMatchHuggingFaceForTrickyText(String text) {
        assertSameAsReference(ours, reference, text);
        assertSameAsReference(oursBge, referenceBge, text);
    }

    @ParameterizedTest
    @MethodSource("tricky")
    void spansPointAtTheSameCharactersAsHuggingFace(String text) {
        assertSameSpans(text);
    }

    static Stream<Path> realTexts() throws IOException {
        List<Path> files = new ArrayList<>();
        for (String name : List.of("Apache-2.0", "GPL-3", "Artistic")) {
            Path p = Path.of("/usr/share/common-licenses", name);
            if (Files.isReadable(p)) {
                files.add(p);
            }
        }
        try (Stream<Path> docs = Files.list(Path.of("..", "docs"))) {
            // The long ones: a short page would not test what a long text does.
            docs.filter(p -> p.toString().endsWith(".md") && p.toFile().length() > 8_000)
                    .forEach(files::add);
        }
        files.add(Path.of("..", "README.md"));
        return files.stream();
    }

    @ParameterizedTest
    @MethodSource("realTexts")
    void longRealTextTokenizesExactlyAsHuggingFace(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertThat(ours.countTokens(text)).isGreaterThan(1000);
        assertSameAsReference(ours, reference, text);
        assertSameSpans(text);
    }

    @Test
    void randomMixturesOfEveryCharacterClassMatchHuggingFace() {
        int[][] pools = {
            " \t\n\r\u00a0\u2003\u3000\u0000\u0007\u200b\u00ad\ufeff"
                    .codePoints()
                    .toArray(),
            "abcXYZ019 .,;:!?'\"-_()[]{}<>$%^&*+=|~`@#/\\".codePoints().toArray(),
            "éÀöÑçÅøßİıŁğΣσςЖж".codePoints().toArray(),
            "e\u0301\u0300\u0308\u0327".codePoints().toArray(),
            "中文字漢語日本한국어ひらがなカタカナ".codePoints().toArray(),
            "😀🎉👍🏽👨\u200d👩✓☃♥∑€₿𝐀𒀀".codePoints().toArray(),
            "«»“”‘’—–…¿¡·•†‡§¶".codePoints().toArray(),
        };
        Random random = new Random(42);
        for (int round = 0; round < 2000; round++) {
            StringBuilder sb = new StringBuilder();
            int length = 1 + random.nextInt(40);
            for (int i = 0; i < length; i++) {
                int[] pool = pools[random.nextInt(pools.length)];
                sb.appendCodePoint(pool[random.nextInt(pool.length)]);
            }
            assertSameAsReference(ours, reference, sb.toString());
        }
    }

    @Test
    void encodeTruncatesToTheWindowKeepingClsAndSep() {
        String text = "word ".repeat(1000);
        int[] ids = ours.encode(text, 256);
        assertThat(ids).hasSize(256);
        assertThat(ids[0]).isEqualTo(ours.clsId()).isEqualTo(101);
        assertThat(ids[255]).isEqualTo(ours.sepId()).isEqualTo(102);
        int word = ours.tokenId("word");
        assertThat(Arrays.copyOfRange(ids, 1, 255)).containsOnly(word);
        assertThat(ours.encode("", 256)).containsExactly(101, 102);
        assertThat(ours.encode("a b c", 2)).containsExactly(101, 102);
        assertThat(ours.encode("a b c", 4)).containsExactly(101, ours.tokenId("a"), ours.tokenId("b"), 102);
    }

    @Test
    void countTokensCountsWordPiecesWithoutSpecialTokens() {
        assertThat(ours.countTokens("")).isZero();
        assertThat(ours.countTokens("hello world")).isEqualTo(2);
        assertThat(ours.countTokens("tokenization!")).isEqualTo(3);
        assertThat(ours.wordPieceSpans("Tokenization!"))
                .containsExactly(
                        new Span(ours.tokenId("token"), 0, 5),
                        new Span(ours.tokenId("##ization"), 5, 12),
                        new Span(ours.tokenId("!"), 12, 13));
    }

    @Test
    void cutAfterTokensKeepsAtMostThatManyPieces() {
        String text = "Embeddings are computed in the JVM, offline, for unbelievably long documents.";
        int total = ours.countTokens(text);
        for (int max = 0; max <= total + 2; max++) {
            int cut = ours.cutAfterTokens(text, max);
            String head = text.substring(0, cut);
            assertThat(ours.countTokens(head)).isEqualTo(Math.min(max, total));
            if (max < total) {
                // the rest of the text starts with the next piece: nothing is lost or doubled
                assertThat(ours.countTokens(head) + ours.countTokens(text.substring(cut)))
                        .isGreaterThanOrEqualTo(total);
            }
        }
        assertThat(ours.cutAfterTokens(text, total)).isEqualTo(text.length());
    }

    @Test
    void countingTokensOfAsciiTextAllocatesNothing() {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        String text = "The chunker counts tokens for every candidate chunk, so counting must not allocate: "
                + "tokenization, embeddings, unbelievable (punctuation) and numbers 3.14!";
        int expected = ours.countTokens(text);
        for (int i = 0; i < 20_000; i++) { // let the JIT compile the hot path
            ours.countTokens(text);
        }
        long tid = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(tid);
        long sum = 0;
        for (int i = 0; i < 10_000; i++) {
            sum += ours.countTokens(text);
        }
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        assertThat(sum).isEqualTo(10_000L * expected);
        assertThat(allocated).as("bytes allocated by 10,000 calls").isLessThan(10_000);
    }

    @Test
    void concurrentCallersGetTheSameTokensAsOneCaller() throws Exception {
        List<String> texts = tricky().toList();
        List<int[]> expected = texts.stream().map(t -> ours.encode(t, 512)).toList();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Boolean>> results = new ArrayList<>();
            for (int k = 0; k < 8; k++) {
                results.add(pool.submit(() -> {
                    for (int round = 0; round < 200; round++) {
                        for (int i = 0; i < texts.size(); i++) {
                            if (!Arrays.equals(ours.encode(texts.get(i), 512), expected.get(i))) {
                                return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (java.util.concurrent.Future<Boolean> r : results) {
                assertThat(r.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aTokenizerFileOfAnotherKindIsRefusedWithTheReason() {
        byte[] bpe = "{\"model\":{\"type\":\"BPE\",\"vocab\":{}},\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}"
                .getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> WordPieceTokenizer.fromJson(bpe))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model.type is 'BPE', only 'WordPiece' is supported");
    }

    private static void assertSameAsReference(WordPieceTokenizer tokenizer, HuggingFaceTokenizer hf, String text) {
        long[] expected = hf.encode(text).getIds();
        int[] actual = tokenizer.encode(text, Integer.MAX_VALUE);
        assertThat(Arrays.stream(actual).asLongStream().toArray())
                .as("ids of %s", escape(text))
                .containsExactly(expected);
        assertThat(tokenizer.countTokens(text)).as("count of %s", escape(text)).isEqualTo(expected.length - 2);
    }

    private static void assertSameSpans(String text) {
        Encoding e = reference.encode(text, false, false);
        CharSpan[] hf = e.getCharTokenSpans();
        List<Span> spans = ours.wordPieceSpans(text);
        assertThat(spans).hasSize(hf.length);
        boolean bmpOnly = text.codePoints().allMatch(Character::isBmpCodePoint);
        for (int i = 0; i < hf.length; i++) {
            assertThat((long) spans.get(i).id()).isEqualTo(e.getIds()[i]);
            if (bmpOnly) { // HuggingFace counts Unicode scalar values, Java UTF-16 units
                assertThat(new int[] {spans.get(i).start(), spans.get(i).end()})
                        .as("span %d (%s) of %s", i, e.getTokens()[i], escape(text))
                        .containsExactly(hf[i].getStart(), hf[i].getEnd());
            }
        }
    }

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        s.codePoints().limit(200).forEach(c -> {
            if (c < 0x20 || c > 0x7e) {
                sb.append(String.format("\\u{%x}", c));
            } else {
                sb.append((char) c);
            }
        });
        return sb.toString();
    }
}
