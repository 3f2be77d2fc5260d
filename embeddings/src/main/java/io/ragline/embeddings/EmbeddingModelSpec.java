package io.ragline.embeddings;

import java.util.Objects;

/**
 * What Ragline must know about an embedding model to tokenize for it, run it and compare its
 * vectors: its size, its window, how token states become one vector, and where its files are.
 *
 * @param name the name operators use ({@code RAGLINE_EMBEDDING_MODEL})
 * @param dimensions length of each vector
 * @param maxTokens the window in word pieces, {@code [CLS]} and {@code [SEP]} included; longer
 *     input is truncated
 * @param pooling how the per-token states become one vector
 * @param normalize whether vectors are scaled to unit length (then cosine = dot product)
 * @param queryPrefix put before a retrieval query (not before documents); empty if none
 * @param onnxResource classpath resource of the ONNX graph
 * @param tokenizerResource classpath resource of the HuggingFace {@code tokenizer.json}
 * @param quantized whether the graph is int8-quantised (smaller, faster, slightly less exact)
 */
public record EmbeddingModelSpec(
        String name,
        int dimensions,
        int maxTokens,
        Pooling pooling,
        boolean normalize,
        String queryPrefix,
        String onnxResource,
        String tokenizerResource,
        boolean quantized) {

    /** How the token states of the last layer are reduced to one vector. */
    public enum Pooling {
        /** Average of the states of the real tokens (attention mask 1), as sentence-transformers do. */
        MEAN,
        /** The state of the first token, {@code [CLS]}. */
        CLS
    }

    public EmbeddingModelSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(pooling, "pooling");
        Objects.requireNonNull(queryPrefix, "queryPrefix");
        Objects.requireNonNull(onnxResource, "onnxResource");
        Objects.requireNonNull(tokenizerResource, "tokenizerResource");
        if (dimensions <= 0) {
            throw new IllegalArgumentException("dimensions must be positive: " + dimensions);
        }
        if (maxTokens < 3) {
            throw new IllegalArgumentException("maxTokens must leave room for [CLS] and [SEP]: " + maxTokens);
        }
    }
}
