package io.ragline.embeddings.tokenizer;

import java.text.Normalizer;

/**
 * Character classes as HuggingFace's {@code BertNormalizer} and {@code BertPreTokenizer} (Rust)
 * define them. They differ from Java's own: Rust's {@code char::is_whitespace} counts no-break
 * spaces, and "punctuation" includes every ASCII symbol such as {@code $+<=>^`|~}.
 */
final class BertChars {
    /** NFD forms of BMP characters, computed on first use (a benign race: same value twice). */
    private static final int[][] DECOMPOSED = new int[65536][];

    private BertChars() {}

    /** Rust's {@code char::is_whitespace} (the Unicode White_Space property). */
    static boolean isWhitespace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** Control characters removed by {@code clean_text}: categories Cc, Cf, Cn, Co, Cs, but not tab and newlines. */
    static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        return switch (Character.getType(cp)) {
            case Character.CONTROL,
                    Character.FORMAT,
                    Character.UNASSIGNED,
                    Character.PRIVATE_USE,
                    Character.SURROGATE -> true;
            default -> false;
        };
    }

    /** ASCII punctuation and symbols, or a Unicode punctuation category (P*). */
    static boolean isPunctuation(int cp) {
        if (cp < 0x80) {
            return (cp >= 33 && cp <= 47)
                    || (cp >= 58 && cp <= 64)
                    || (cp >= 91 && cp <= 96)
                    || (cp >= 123 && cp <= 126);
        }
        return switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION,
                    Character.DASH_PUNCTUATION,
                    Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION,
                    Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION,
                    Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** The CJK ideograph blocks BERT puts spaces around (Hangul, kana and others are not among them). */
    static boolean isChinese(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF)
                || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF)
                || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F)
                || (cp >= 0x2B920 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF)
                || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    /** The NFD decomposition of {@code cp} without its non-spacing marks (strip_accents). */
    static int[] stripAccents(int cp) {
        if (cp < 0x10000) {
            int[] d = DECOMPOSED[cp];
            if (d == null) {
                d = decompose(cp);
                DECOMPOSED[cp] = d;
            }
            return d;
        }
        return decompose(cp);
    }

    private static int[] decompose(int cp) {
        String nfd = Normalizer.normalize(new String(Character.toChars(cp)), Normalizer.Form.NFD);
        return nfd.codePoints()
                .filter(c -> Character.getType(c) != Character.NON_SPACING_MARK)
                .toArray();
    }

    /**
     * Appends Rust's {@code char::to_lowercase} of {@code cp} to {@code out} at {@code at} and
     * returns the new length: Java's simple mapping, except the one character whose full lowercase
     * is two characters (U+0130, capital I with dot above).
     */
    static int lowercase(int cp, int[] out, int at) {
        if (cp == 0x130) {
            out[at] = 'i';
            out[at + 1] = 0x307;
            return at + 2;
        }
        out[at] = Character.toLowerCase(cp);
        return at + 1;
    }
}
