package io.ragline.embeddings.tokenizer;

import io.ragline.embeddings.EmbeddingModelSpec;
import io.ragline.embeddings.ModelResources;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * BERT's WordPiece tokenizer in pure Java, configured from a HuggingFace {@code tokenizer.json}:
 * the {@code BertNormalizer} (clean text, CJK spacing, accent stripping, lowercasing), the
 * {@code BertPreTokenizer} (split on whitespace and punctuation), greedy longest-match WordPiece
 * with a continuation prefix, and {@code [CLS] … [SEP]} around a sequence. Special tokens written
 * literally in the text ({@code [SEP]}) become those tokens, as in HuggingFace.
 *
 * <p>Why our own: the chunker in ingest-worker counts tokens for every candidate chunk, so this
 * must be fast, allocation-light and free of native code; its output is tested against
 * HuggingFace's Rust implementation. Thread-safe; one instance per model is enough.
 */
public final class WordPieceTokenizer {
    private final TokenizerConfig config;
    private final VocabTrie vocab;
    private final int continuationRoot;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    WordPieceTokenizer(TokenizerConfig config) {
        this.config = config;
        this.vocab = new VocabTrie(config.vocab().size() * 6);
        config.vocab().forEach(vocab::add);
        this.continuationRoot = vocab.walkOrCreate(vocab.root(), config.continuingSubwordPrefix());
    }

    /** The tokenizer of {@code spec}'s model, read from its {@code tokenizer.json} on the classpath. */
    public static WordPieceTokenizer forModel(EmbeddingModelSpec spec) {
        return fromJson(ModelResources.tokenizerJson(spec));
    }

    /**
     * A tokenizer from the bytes of a HuggingFace {@code tokenizer.json}.
     *
     * @throws IllegalArgumentException if the file is not a BERT WordPiece tokenizer
     */
    public static WordPieceTokenizer fromJson(byte[] tokenizerJson) {
        return new WordPieceTokenizer(TokenizerConfig.parse(tokenizerJson));
    }

    /**
     * The model input for {@code text}: {@code [CLS]}, the first {@code maxTokens - 2} word pieces,
     * {@code [SEP]}. Longer text is truncated, never rejected.
     *
     * @param maxTokens at least 2 (the special tokens)
     */
    public int[] encode(String text, int maxTokens) {
        if (maxTokens < 2) {
            throw new IllegalArgumentException("maxTokens must be at least 2 ([CLS] and [SEP]): " + maxTokens);
        }
        IdCollector ids = new IdCollector(maxTokens - 2);
        ids.ids[0] = config.clsId();
        scan(text, ids);
        int[] out = Arrays.copyOf(ids.ids, ids.size + 1);
        out[ids.size] = config.sepId();
        return out;
    }

    /** The number of word pieces in {@code text}, without special tokens. Allocates nothing for ASCII text. */
    public int countTokens(String text) {
        Counter counter = scratch.get().counter;
        counter.count = 0;
        scan(text, counter);
        return counter.count;
    }

    /** Every word piece of {@code text} with its UTF-16 offsets in {@code text}, without special tokens. */
    public List<Span> wordPieceSpans(String text) {
        List<Span> spans = new ArrayList<>();
        scan(text, (id, start, end) -> {
            spans.add(new Span(id, start, end));
            return true;
        });
        return spans;
    }

    /**
     * Where to cut {@code text} so that the part before the cut holds at most {@code maxPieces} word
     * pieces: the end offset of the last piece that fits ({@code text.length()} when all fit, 0
     * when {@code maxPieces} is 0). The cut may fall inside a word, between two of its pieces;
     * use {@link #wordPieceSpans} to prefer a word boundary.
     */
    public int cutAfterTokens(String text, int maxPieces) {
        if (maxPieces < 0) {
            throw new IllegalArgumentException("maxPieces must not be negative: " + maxPieces);
        }
        int[] result = {0, 0}; // pieces seen, end of the last piece that fits
        scan(text, (id, start, end) -> {
            if (result[0] == maxPieces) {
                return false;
            }
            result[0]++;
            result[1] = end;
            return true;
        });
        return result[0] < maxPieces ? text.length() : result[1];
    }

    public int clsId() {
        return config.clsId();
    }

    public int sepId() {
        return config.sepId();
    }

    public int padId() {
        return config.padId();
    }

    /** The id of {@code token} exactly as in the vocabulary (e.g. {@code "##ing"}), or -1. */
    public int tokenId(String token) {
        Integer id = config.vocab().get(token);
        return id == null ? -1 : id;
    }

    /** Receives word pieces in order; returns false to stop the scan. */
    @FunctionalInterface
    interface PieceSink {
        boolean accept(int id, int start, int end);
    }

    private void scan(String text, PieceSink sink) {
        Scratch s = scratch.get();
        s.wordLength = 0;
        int n = text.length();
        int i = 0;
        while (i < n) {
            char ch = text.charAt(i);
            if (config.isAddedTokenStart(ch)) {
                int k = config.matchAddedToken(text, i);
                if (k >= 0) {
                    int len = config.addedTokenLength(k);
                    if (!flush(s, sink) || !sink.accept(config.addedTokenId(k), i, i + len)) {
                        return;
                    }
                    i += len;
                    continue;
                }
            }
            if (ch < 0x80 && config.cleanText()) {
                if (!asciiChar(ch, i, s, sink)) {
                    return;
                }
                i++;
                continue;
            }
            int cp = text.codePointAt(i);
            int end = i + Character.charCount(cp);
            if (!codePoint(cp, i, end, s, sink)) {
                return;
            }
            i = end;
        }
        flush(s, sink);
    }

    /** The fast path: clean_text is on and the character is ASCII, so NFD changes nothing. */
    private boolean asciiChar(char ch, int at, Scratch s, PieceSink sink) {
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            return flush(s, sink);
        }
        if (ch < 0x20 || ch == 0x7F) {
            return true; // control character: removed
        }
        if (BertChars.isPunctuation(ch)) {
            return flush(s, sink) && single(ch, at, at + 1, s, sink);
        }
        int c = config.lowercase() && ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
        s.append(c, at, at + 1);
        return true;
    }

    private boolean codePoint(int cp, int start, int end, Scratch s, PieceSink sink) {
        if (config.cleanText()) {
            if (cp == 0 || cp == 0xFFFD || BertChars.isControl(cp)) {
                return true;
            }
            if (BertChars.isWhitespace(cp)) {
                return flush(s, sink);
            }
        }
        boolean chinese = config.handleChineseChars() && BertChars.isChinese(cp);
        if (chinese && !flush(s, sink)) {
            return false;
        }
        int[] normalized = s.normalized;
        int count;
        if (config.stripAccents()) {
            int[] stripped = BertChars.stripAccents(cp);
            count = 0;
            for (int c : stripped) {
                count = config.lowercase() ? BertChars.lowercase(c, normalized, count) : put(normalized, count, c);
            }
        } else {
            count = config.lowercase() ? BertChars.lowercase(cp, normalized, 0) : put(normalized, 0, cp);
        }
        for (int k = 0; k < count; k++) {
            int c = normalized[k];
            if (BertChars.isWhitespace(c)) {
                if (!flush(s, sink)) {
                    return false;
                }
            } else if (BertChars.isPunctuation(c)) {
                if (!flush(s, sink) || !single(c, start, end, s, sink)) {
                    return false;
                }
            } else {
                s.append(c, start, end);
            }
        }
        return !chinese || flush(s, sink);
    }

    private static int put(int[] out, int at, int cp) {
        out[at] = cp;
        return at + 1;
    }

    private boolean single(int cp, int start, int end, Scratch s, PieceSink sink) {
        s.append(cp, start, end);
        return flush(s, sink);
    }

    /** Ends the current word: WordPiece over it, pieces to the sink. */
    private boolean flush(Scratch s, PieceSink sink) {
        int len = s.wordLength;
        if (len == 0) {
            return true;
        }
        s.wordLength = 0;
        int[] cps = s.word;
        if (len > config.maxInputCharsPerWord()) {
            return sink.accept(config.unkId(), s.starts[0], s.ends[len - 1]);
        }
        int pieces = 0;
        int start = 0;
        while (start < len) {
            int node = start == 0 ? vocab.root() : continuationRoot;
            int matchEnd = -1;
            int matchId = VocabTrie.NONE;
            for (int k = start; k < len; k++) {
                node = vocab.child(node, cps[k]);
                if (node == VocabTrie.NONE) {
                    break;
                }
                int id = vocab.tokenId(node);
                if (id != VocabTrie.NONE) {
                    matchEnd = k + 1;
                    matchId = id;
                }
            }
            if (matchEnd < 0) {
                return sink.accept(config.unkId(), s.starts[0], s.ends[len - 1]);
            }
            s.pieceIds[pieces] = matchId;
            s.pieceStarts[pieces] = start;
            s.pieceEnds[pieces] = matchEnd;
            pieces++;
            start = matchEnd;
        }
        for (int p = 0; p < pieces; p++) {
            if (!sink.accept(s.pieceIds[p], s.starts[s.pieceStarts[p]], s.ends[s.pieceEnds[p] - 1])) {
                return false;
            }
        }
        return true;
    }

    /** Per-thread buffers for the word being built and its pieces. */
    private static final class Scratch {
        int[] word = new int[64];
        int[] starts = new int[64];
        int[] ends = new int[64];
        int wordLength;
        int[] pieceIds = new int[64];
        int[] pieceStarts = new int[64];
        int[] pieceEnds = new int[64];
        final int[] normalized = new int[16];
        final Counter counter = new Counter();

        void append(int cp, int start, int end) {
            if (wordLength == word.length) {
                int size = word.length * 2;
                word = Arrays.copyOf(word, size);
                starts = Arrays.copyOf(starts, size);
                ends = Arrays.copyOf(ends, size);
                pieceIds = Arrays.copyOf(pieceIds, size);
                pieceStarts = Arrays.copyOf(pieceStarts, size);
                pieceEnds = Arrays.copyOf(pieceEnds, size);
            }
            word[wordLength] = cp;
            starts[wordLength] = start;
            ends[wordLength] = end;
            wordLength++;
        }
    }

    private static final class Counter implements PieceSink {
        int count;

        @Override
        public boolean accept(int id, int start, int end) {
            count++;
            return true;
        }
    }

    /** Collects ids after a reserved slot 0 ({@code [CLS]}), stopping at the limit. */
    private static final class IdCollector implements PieceSink {
        final int limit;
        int[] ids;
        int size = 1;

        IdCollector(int limit) {
            this.limit = limit;
            this.ids = new int[Math.min(limit, 254) + 2];
        }

        @Override
        public boolean accept(int id, int start, int end) {
            if (size - 1 == limit) {
                return false;
            }
            if (size == ids.length - 1) {
                ids = Arrays.copyOf(ids, ids.length * 2);
            }
            ids[size++] = id;
            return size - 1 < limit;
        }
    }
}
