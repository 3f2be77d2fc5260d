package io.ragline.embeddings;

import java.util.List;

/**
 * Turns texts into vectors. embedding-worker embeds chunks with {@link #embed} and search queries
 * with {@link #embedQuery}; which implementation runs (in-JVM ONNX, an OpenAI-compatible HTTP
 * endpoint, PostgresML's {@code pgml.embed}) is configuration, see {@link EmbeddingProviders}.
 *
 * <p>Implementations are thread-safe and hold resources (native sessions, HTTP clients): create one
 * per process and close it at shutdown.
 */
public interface EmbeddingProvider extends AutoCloseable {

    /** The model's name, as stored beside each vector so vectors of different models never mix. */
    String model();

    /** The length of every vector this provider returns. */
    int dimensions();

    /** The model's window in tokens; longer texts are truncated, so chunks should fit in it. */
    int maxTokens();

    /**
     * One vector per text, in the order of {@code texts}. An empty list gives an empty list.
     *
     * @throws EmbeddingException when the model or service fails; the message says whether a retry
     *     may help ({@link EmbeddingException#retryable()})
     */
    List<float[]> embed(List<String> texts);

    /** The vector of a search query: like {@link #embed} but with the model's query prefix, if any. */
    float[] embedQuery(String text);

    /** Releases native memory, connections and threads. Idempotent. */
    @Override
    void close();
}
