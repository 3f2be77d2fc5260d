package io.ragline.embeddings.chunking;

import java.text.Normalizer;
import java.util.regex.Pattern;

/**
 * Makes text stable before it is hashed and chunked: Unicode NFC, line breaks as {@code \n},
 * control characters removed, runs of spaces and tabs as one space, at most one blank line in a
 * row, no trailing spaces, trimmed. Two texts that differ only in these respects hash the same.
 */
public final class TextNormalizer {
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cc}&&[^\\n\\t]]|[\\u200B\\uFEFF]");
    private static final Pattern SPACES = Pattern.compile("[ \\t\\u00A0]+");
    private static final Pattern TRAILING = Pattern.compile(" +\\n");
    private static final Pattern BLANK_LINES = Pattern.compile("\\n{3,}");

    private TextNormalizer() {}

    public static String normalize(String text) {
        if (text == null) {
            return null;
        }
        String s = Normalizer.normalize(text, Normalizer.Form.NFC);
        s = s.replace("\r\n", "\n").replace('\r', '\n');
        s = CONTROL.matcher(s).replaceAll("");
        s = SPACES.matcher(s).replaceAll(" ");
        s = TRAILING.matcher(s).replaceAll("\n");
        s = BLANK_LINES.matcher(s).replaceAll("\n\n");
        return s.strip();
    }
}
