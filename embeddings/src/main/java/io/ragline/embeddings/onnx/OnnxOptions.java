package io.ragline.embeddings.onnx;

/**
 * How an {@link OnnxEmbeddingModel} runs.
 *
 * @param threads ONNX Runtime intra-op threads for one batch (default: available cores)
 * @param maxBatchSize at most this many texts per {@code run} (default {@value
 *     #DEFAULT_MAX_BATCH_SIZE}); larger batches amortise per-call overhead, smaller ones waste less
 *     padding
 * @param maxBatchTokens at most this many padded tokens per {@code run} (default {@value
 *     #MAX_BATCH_TOKENS})
 * @param spinning whether ONNX Runtime's idle worker threads spin instead of sleeping: a little
 *     lower latency on a dedicated machine, wasted CPU on a shared one (default false)
 */
public record OnnxOptions(int threads, int maxBatchSize, int maxBatchTokens, boolean spinning) {
    public static final int DEFAULT_MAX_BATCH_SIZE = 64;

    /**
     * At most this many tokens (texts times the batch's longest text) per {@code run}: about 8
     * chunks of 256 tokens, up to 64 texts of 30. Measured on 2 cores: batches of 32-64 chunks of
     * 200 tokens were 10-17 % slower than one per call, batches of 8 as fast; short texts gain
     * most from large batches.
     */
    public static final int MAX_BATCH_TOKENS = 2048;

    public OnnxOptions {
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("threads must be between 1 and 256: " + threads);
        }
        if (maxBatchSize < 1 || maxBatchSize > 4096) {
            throw new IllegalArgumentException("maxBatchSize must be between 1 and 4096: " + maxBatchSize);
        }
        if (maxBatchTokens < 1) {
            throw new IllegalArgumentException("maxBatchTokens must be positive: " + maxBatchTokens);
        }
    }

    /** At most {@value #MAX_BATCH_TOKENS} padded tokens per run. */
    public OnnxOptions(int threads, int maxBatchSize, boolean spinning) {
        this(threads, maxBatchSize, MAX_BATCH_TOKENS, spinning);
    }

    /** No spinning. */
    public OnnxOptions(int threads, int maxBatchSize) {
        this(threads, maxBatchSize, false);
    }

    /** Threads = available cores, batches of {@value #DEFAULT_MAX_BATCH_SIZE}, no spinning. */
    public static OnnxOptions defaults() {
        return new OnnxOptions(
                Runtime.getRuntime().availableProcessors(), DEFAULT_MAX_BATCH_SIZE, MAX_BATCH_TOKENS, false);
    }
}
