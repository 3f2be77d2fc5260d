package io.ragline.ingest.chunking;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A token-aware recursive splitter driven by the embedding model's own tokenizer. Text is split
 * at paragraph breaks, then line breaks, then sentence ends, then spaces, and as a last resort
 * at token boundaries, until every piece fits; neighbouring pieces are then merged into chunks of
 * at most {@code maxTokens} tokens, each starting with about {@code overlapTokens} tokens of the
 * chunk before. Every chunk returned is measured again with the tokenizer: none exceeds {@code
 * maxTokens}.
 */
public final class RecursiveChunker {
    private static final String[] SEPARATORS = {"\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " "};

    private final TokenCounter tokens;

    public RecursiveChunker(TokenCounter tokens) {
        this.tokens = tokens;
    }

    /** A chunk's text and its token count (without the model's special tokens). */
    public record Chunk(String text, int tokens) {}

    public List<Chunk> chunk(String text, int maxTokens, int overlapTokens) {
        if (maxTokens < 1) {
            throw new IllegalArgumentException("maxTokens must be positive, not " + maxTokens);
        }
        if (overlapTokens < 0 || overlapTokens >= maxTokens) {
            throw new IllegalArgumentException("overlapTokens must be at least 0 and below maxTokens");
        }
        List<Chunk> out = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        List<Piece> pieces = new ArrayList<>();
        split(text, maxTokens, 0, pieces);
        Deque<Piece> current = new ArrayDeque<>();
        int currentTokens = 0;
        for (Piece piece : pieces) {
            if (currentTokens + piece.tokens > maxTokens && !current.isEmpty()) {
                emit(current, maxTokens, out);
                // Keep the tail of the chunk just emitted, up to the overlap, to start the next one.
                Deque<Piece> tail = new ArrayDeque<>();
                int tailTokens = 0;
                for (var it = current.descendingIterator(); it.hasNext(); ) {
                    Piece p = it.next();
                    if (tailTokens + p.tokens > overlapTokens || tailTokens + p.tokens + piece.tokens > maxTokens) {
                        break;
                    }
                    tail.addFirst(p);
                    tailTokens += p.tokens;
                }
                current = tail;
                currentTokens = tailTokens;
            }
            current.addLast(piece);
            currentTokens += piece.tokens;
        }
        if (!current.isEmpty()) {
            emit(current, maxTokens, out);
        }
        return out;
    }

    private void emit(Deque<Piece> pieces, int maxTokens, List<Chunk> out) {
        StringBuilder sb = new StringBuilder();
        for (Piece p : pieces) {
            sb.append(p.text);
        }
        String text = sb.toString().strip();
        while (!text.isEmpty()) {
            // Joined pieces can tokenize differently from the pieces alone: measure again.
            int count = tokens.count(text);
            if (count <= maxTokens) {
                out.add(new Chunk(text, count));
                return;
            }
            int cut = Math.max(1, tokens.prefixChars(text, maxTokens));
            String head = text.substring(0, cut).strip();
            if (!head.isEmpty()) {
                out.add(new Chunk(head, tokens.count(head)));
            }
            text = text.substring(cut).strip();
        }
    }

    private void split(String text, int maxTokens, int level, List<Piece> out) {
        int count = tokens.count(text);
        if (count <= maxTokens) {
            if (!text.isEmpty()) {
                out.add(new Piece(text, count));
            }
            return;
        }
        if (level == SEPARATORS.length) {
            String rest = text;
            while (!rest.isEmpty()) {
                int cut = Math.max(1, tokens.prefixChars(rest, maxTokens));
                String head = rest.substring(0, cut);
                out.add(new Piece(head, tokens.count(head)));
                rest = rest.substring(cut);
            }
            return;
        }
        String separator = SEPARATORS[level];
        int from = 0;
        List<String> parts = new ArrayList<>();
        for (int at = text.indexOf(separator); at >= 0; at = text.indexOf(separator, from)) {
            parts.add(text.substring(from, at + separator.length()));
            from = at + separator.length();
        }
        if (from < text.length()) {
            parts.add(text.substring(from));
        }
        if (parts.size() <= 1) {
            split(text, maxTokens, level + 1, out);
            return;
        }
        for (String part : parts) {
            split(part, maxTokens, level + 1, out); // a part that fits is kept whole
        }
    }

    private record Piece(String text, int tokens) {}
}
