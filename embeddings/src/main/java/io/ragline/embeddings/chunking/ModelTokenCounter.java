package io.ragline.embeddings.chunking;

import io.ragline.core.collections.Collection;
import io.ragline.embeddings.EmbeddingModelSpec;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.embeddings.tokenizer.Span;
import io.ragline.embeddings.tokenizer.WordPieceTokenizer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The chunker of each collection, driven by its model's own tokenizer and window. A collection
 * whose model is not one of the bundled ONNX models (an {@code openai} or {@code pgml} model) is
 * chunked with the default model's tokenizer and window: a close estimate for BERT-like models;
 * set its chunk size below the real model's window.
 */
public final class ModelTokenCounter implements TokenCounter {
    private final WordPieceTokenizer tokenizer;

    private ModelTokenCounter(WordPieceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The counter of {@code spec}'s own tokenizer. */
    public static ModelTokenCounter forModel(EmbeddingModelSpec spec) {
        return new ModelTokenCounter(WordPieceTokenizer.forModel(spec));
    }

    @Override
    public int count(String text) {
        return tokenizer.countTokens(text);
    }

    @Override
    public int prefixChars(String text, int tokens) {
        return tokenizer.cutAfterTokens(text, tokens);
    }

    @Override
    public int[] offsets(String text) {
        List<Span> spans = tokenizer.wordPieceSpans(text);
        int[] out = new int[spans.size() * 2];
        for (int i = 0; i < spans.size(); i++) {
            out[2 * i] = spans.get(i).start();
            out[2 * i + 1] = spans.get(i).end();
        }
        return out;
    }

    /** Chunkers per model, each made once. */
    public static final class Chunkers implements java.util.function.Function<Collection, DocumentChunker> {
        private final Map<String, DocumentChunker> byModel = new ConcurrentHashMap<>();

        @Override
        public DocumentChunker apply(Collection collection) {
            EmbeddingModelSpec spec = ModelCatalog.names().contains(collection.model())
                    ? ModelCatalog.get(collection.model())
                    : ModelCatalog.defaultModel();
            return byModel.computeIfAbsent(spec.name(), name -> new DocumentChunker(forModel(spec), spec.maxTokens()));
        }
    }
}
