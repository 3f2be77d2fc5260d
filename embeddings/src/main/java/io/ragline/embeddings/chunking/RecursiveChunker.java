package io.ragline.embeddings.chunking;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A token-aware recursive splitter driven by the embedding model's own tokenizer, whose chunk
 * boundaries are chosen by the text around them, so that an edit re-cuts only the chunks near
 * it (and the vectors of the others are kept).
 *
 * <p>Text is split at paragraph breaks, then line breaks, then sentence ends, then spaces, and as
 * a last resort at token boundaries, until every piece fits in {@code maxTokens}. Each piece
 * remembers how strong the break after it is (a paragraph break is stronger than a sentence end)
 * and a hash of its text. A break is an <em>anchor</em> when no break within 40 % of a chunk's
 * tokens before or after it is stronger (by strength, then by hash): that depends only on the text
 * around the break, never on where a chunk starts, so an edit moves only the anchors within that
 * reach of it. Chunks end at anchors; the stretch between two anchors that does not fit in one
 * chunk is cut at its strongest break that leaves the rest no longer than a chunk. Each chunk
 * starts with about {@code overlapTokens} tokens of whole pieces from the end of the chunk before.
 * So an edit re-cuts the chunk that holds it, at most a neighbour on each side (an anchor moved),
 * and the chunk after (its overlap); a greedy packer would have shifted every later boundary.
 * Chunks hold about 60 % of {@code maxTokens} on average (anchors are at least 40 % apart).
 *
 * <p>The text is tokenized once: a piece's token count is the number of the text's tokens that
 * start inside it, which is its own count whenever it is cut between words (WordPiece tokenizes
 * each word on its own). Only a chunk that starts or ends inside a word (a word longer than a
 * chunk, cut at token boundaries) is measured again on its own and cut again if it must be.
 */
public final class RecursiveChunker {
    private static final String[] SEPARATORS = {"\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " "};
    /** The break strength of the text's end: stronger than any separator. */
    private static final int END = -1;
    /** The break strength of a cut at a token boundary, inside a word: weaker than any separator. */
    private static final int IN_WORD = SEPARATORS.length;
    /** How far, in percent of a chunk's new text, an anchor is stronger than every other break. */
    private static final int ANCHOR_REACH_PERCENT = 40;
    /** How many pieces beyond the reach's tokens an anchor's scan looks at (pieces of no token). */
    private static final int MAX_EMPTY_PIECES = 16;

    private final TokenCounter tokens;

    public RecursiveChunker(TokenCounter tokens) {
        this.tokens = tokens;
    }

    /** A chunk's text and its token count (without the model's special tokens). */
    public record Chunk(String text, int tokens) {}

    /** A part of the text, {@code [start, end)}, its tokens and the strength of the break after it. */
    private record Piece(int start, int end, int tokens, int level, int hash) {}

    public List<Chunk> chunk(String text, int maxTokens, int overlapTokens) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be positive, not " + maxTokens);
        }
        if (overlapTokens < 0 || overlapTokens >= maxTokens) {
            throw new IllegalArgumentException("overlapTokens must be at least 0 and below maxTokens");
        }
        if (text == null || text.isBlank()) {
            return new ArrayList<>();
        }
        Offsets offsets = new Offsets(tokens.offsets(text));
        List<Piece> pieces = new ArrayList<>();
        new Splitter(text, offsets, maxTokens, pieces).split(0, text.length(), 0, END);
        return pack(text, offsets, pieces, maxTokens, overlapTokens);
    }

    private List<Chunk> pack(String text, Offsets offsets, List<Piece> pieces, int maxTokens, int overlapTokens) {
        boolean[] anchors = anchors(pieces, (maxTokens - overlapTokens) * ANCHOR_REACH_PERCENT / 100);
        List<Chunk> out = new ArrayList<>();
        int first = 0; // the first piece of the current chunk, overlap included
        int start = 0; // its first piece that no chunk before holds
        int carried = 0; // tokens of the overlap
        int anchor = 0; // the first anchor at or after start
        while (start < pieces.size()) {
            while (!anchors[anchor]) {
                anchor++;
            }
            int room = maxTokens - carried;
            int end = end(pieces, start, anchor, room);
            emit(text, offsets, pieces.get(first).start, pieces.get(end).end, maxTokens, out);
            // The overlap: whole pieces from this chunk's end, leaving room for the next piece.
            int next = end + 1 < pieces.size() ? pieces.get(end + 1).tokens : 0;
            first = end + 1;
            carried = 0;
            for (int i = end; i >= start; i--) {
                int t = pieces.get(i).tokens;
                if (carried + t > overlapTokens || carried + t + next > maxTokens) {
                    break;
                }
                carried += t;
                first = i;
            }
            start = end + 1;
            anchor = Math.max(anchor, start);
        }
        return out;
    }

    /**
     * Which breaks are anchors: no break within {@code reach} tokens before or after is stronger.
     * Whether a break is one depends only on the text within reach, not on where any chunk
     * starts, so an edit moves only the anchors within reach of it. The text's end is one.
     */
    private static boolean[] anchors(List<Piece> pieces, int reach) {
        int n = pieces.size();
        int[] at = new int[n]; // the token position of the break after each piece
        int sum = 0;
        for (int i = 0; i < n; i++) {
            sum += pieces.get(i).tokens;
            at[i] = sum;
        }
        boolean[] anchors = new boolean[n];
        // Pieces the tokenizer sees no token in (a line of ideographic spaces) all sit at one token
        // position: a bound in pieces as well keeps a megabyte of them linear.
        int span = Math.max(reach, 1) + MAX_EMPTY_PIECES;
        for (int i = 0; i < n; i++) {
            boolean anchor = true;
            for (int j = i - 1; anchor && j >= 0 && i - j <= span && at[i] - at[j] <= reach; j--) {
                anchor = !stronger(pieces.get(j), pieces.get(i));
            }
            for (int j = i + 1; anchor && j < n && j - i <= span && at[j] - at[i] <= reach; j++) {
                anchor = !stronger(pieces.get(j), pieces.get(i));
            }
            anchors[i] = anchor;
        }
        anchors[n - 1] = true;
        return anchors;
    }

    /**
     * The last piece of the chunk whose new text starts at piece {@code start}, the next anchor
     * being piece {@code anchor}: the anchor if all up to it fits in {@code room}; else, cutting
     * the stretch before the anchor, the strongest break (then the highest hash) among those that
     * fill at least half the room and leave no more than a room to the anchor; else the last piece
     * that fits.
     */
    private static int end(List<Piece> pieces, int start, int anchor, int room) {
        int total = 0;
        for (int i = start; i <= anchor && total <= 2 * room; i++) { // past 2 rooms min > room: no best
            total += pieces.get(i).tokens;
        }
        int min = Math.max(room / 2, total - room);
        int sum = 0;
        int last = start;
        int best = -1;
        for (int i = start; i <= anchor; i++) {
            Piece p = pieces.get(i);
            if (sum + p.tokens > room && i > start) {
                break;
            }
            sum += p.tokens;
            last = i;
            if (sum >= min && (best < 0 || stronger(p, pieces.get(best)))) {
                best = i;
            }
        }
        return last == anchor || best < 0 ? last : best;
    }

    /**
     * A total order of breaks: the stronger separator, then the higher hash, then the earlier
     * one. Without the last rule a run of identical lines would tie, every one of its breaks
     * would be an anchor and every line a chunk; the earlier of two equal breaks stays earlier
     * whatever an edit elsewhere does, so the order still depends only on the text around them.
     */
    private static boolean stronger(Piece p, Piece than) {
        if (p.level != than.level) {
            return p.level < than.level;
        }
        if (p.hash != than.hash) {
            return Integer.compareUnsigned(p.hash, than.hash) > 0;
        }
        return p.start < than.start;
    }

    private void emit(String text, Offsets offsets, int from, int to, int maxTokens, List<Chunk> out) {
        boolean inWord = inWord(text, from) || inWord(text, to);
        String chunk = text.substring(from, to).strip();
        if (chunk.isEmpty()) {
            return;
        }
        if (!inWord) {
            out.add(new Chunk(chunk, offsets.between(from, to)));
            return;
        }
        while (!chunk.isEmpty()) {
            // Cut inside a word: its pieces tokenize differently on their own, so measure again.
            int count = tokens.count(chunk);
            if (count <= maxTokens) {
                out.add(new Chunk(chunk, count));
                return;
            }
            int cut = Math.max(1, tokens.prefixChars(chunk, maxTokens));
            String head = chunk.substring(0, cut).strip();
            if (!head.isEmpty()) {
                out.add(new Chunk(head, tokens.count(head)));
            }
            chunk = chunk.substring(cut).strip();
        }
    }

    /** Whether {@code at} falls between two characters of one word. */
    private static boolean inWord(String text, int at) {
        return at > 0
                && at < text.length()
                && !Character.isWhitespace(text.charAt(at - 1))
                && !Character.isWhitespace(text.charAt(at));
    }

    /** The tokens of the whole text, by their offsets: counts any part of it. */
    private static final class Offsets {
        private final int[] starts;
        private final int[] ends;

        Offsets(int[] pairs) {
            starts = new int[pairs.length / 2];
            ends = new int[pairs.length / 2];
            for (int i = 0; i < starts.length; i++) {
                starts[i] = pairs[2 * i];
                ends[i] = pairs[2 * i + 1];
            }
        }

        /** The index of the first token that starts at or after {@code offset}. */
        int firstFrom(int offset) {
            int i = Arrays.binarySearch(starts, offset);
            if (i < 0) {
                return -i - 1;
            }
            while (i > 0 && starts[i - 1] == offset) { // tokens of one character share its offsets
                i--;
            }
            return i;
        }

        int between(int from, int to) {
            return firstFrom(to) - firstFrom(from);
        }

        int end(int token) {
            return ends[token];
        }
    }

    /** Cuts the text into pieces of at most {@code maxTokens}, each with the strength of its break. */
    private record Splitter(String text, Offsets offsets, int maxTokens, List<Piece> out) {
        void split(int from, int to, int level, int endLevel) {
            int count = offsets.between(from, to);
            if (count <= maxTokens) {
                if (to > from) {
                    out.add(new Piece(from, to, count, endLevel, hash(from, to)));
                }
                return;
            }
            if (level == SEPARATORS.length) {
                cutAtTokens(from, to, endLevel);
                return;
            }
            String separator = SEPARATORS[level];
            List<Integer> cuts = new ArrayList<>();
            for (int at = text.indexOf(separator, from);
                    at >= 0 && at + separator.length() < to;
                    at = text.indexOf(separator, at + separator.length())) {
                cuts.add(at + separator.length());
            }
            int partFrom = from;
            for (int cut : cuts) {
                split(partFrom, cut, level + 1, level); // a part that fits is kept whole
                partFrom = cut;
            }
            split(partFrom, to, level + 1, endLevel);
        }

        /** No separator left: groups of {@code maxTokens} tokens, cut after the group's last token. */
        private void cutAtTokens(int from, int to, int endLevel) {
            int first = offsets.firstFrom(from);
            int last = offsets.firstFrom(to); // exclusive
            int at = from;
            for (int t = first + maxTokens; t < last; t += maxTokens) {
                int cut = offsets.end(t - 1);
                out.add(new Piece(at, cut, offsets.between(at, cut), IN_WORD, hash(at, cut)));
                at = cut;
            }
            out.add(new Piece(at, to, offsets.between(at, to), endLevel, hash(at, to)));
        }

        /** A well-mixed hash of the text's characters in {@code [from, to)}: the same text, the same hash. */
        private int hash(int from, int to) {
            int h = 0;
            for (int i = from; i < to; i++) {
                h = 31 * h + text.charAt(i);
            }
            h ^= h >>> 16;
            h *= 0x85ebca6b;
            h ^= h >>> 13;
            h *= 0xc2b2ae35;
            return h ^ (h >>> 16);
        }
    }
}
