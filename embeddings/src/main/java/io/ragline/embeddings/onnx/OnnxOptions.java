package io.ragline.embeddings.onnx;

/**
 * How an {@link OnnxEmbeddingModel} runs.
 *
 * @param threads cores given to ONNX Runtime for one call of {@code embed} (default: available
 *     cores)
 * @param lanes how many runs of one call go at the same time, each on {@code threads / lanes}
 *     ONNX Runtime threads (default: {@code threads}, one thread per run). On 2 cores two
 *     single-threaded runs side by side measured faster than one run on two threads, most on short
 *     texts: each operator of a run on two threads ends in a barrier between them, and a forward
 *     pass has hundreds of operators (docs/benchmarks.md). A call with a single run (one query) then
 *     uses one lane, so on many cores a single text is slower than on all of them; set fewer lanes
 *     (more threads each) where the latency of single texts matters more than throughput.
 * @param maxBatchSize at most this many texts per {@code run} (default {@value
 *     #DEFAULT_MAX_BATCH_SIZE}); larger batches amortise per-call overhead, smaller ones waste less
 *     padding
 * @param maxBatchTokens at most this many padded tokens per {@code run} (default {@value
 *     #MAX_BATCH_TOKENS})
 * @param spinning whether ONNX Runtime's idle worker threads spin instead of sleeping: a little
 *     lower latency on a dedicated machine, wasted CPU on a shared one (default false)
 */
public record OnnxOptions(int threads, int lanes, int maxBatchSize, int maxBatchTokens, boolean spinning) {
    public static final int DEFAULT_MAX_BATCH_SIZE = 64;

    /**
     * At most this many tokens (texts times the run's longest text) per {@code run}: 16 texts of 32
     * tokens, two chunks of 256. Measured on 2 cores with a run per core (docs/benchmarks.md): 512
     * was faster than 1,024 and 2,048 for short texts and long chunks alike; a run's activations
     * then stay near the core's own cache, and a call of 64 short texts still makes 4 runs.
     */
    public static final int MAX_BATCH_TOKENS = 512;

    public OnnxOptions {
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("threads must be between 1 and 256: " + threads);
        }
        if (lanes < 1 || lanes > threads || threads % lanes != 0) {
            throw new IllegalArgumentException(
                    "lanes must divide threads (" + threads + ") evenly, between 1 and threads: " + lanes);
        }
        if (maxBatchSize < 1 || maxBatchSize > 4096) {
            throw new IllegalArgumentException("maxBatchSize must be between 1 and 4096: " + maxBatchSize);
        }
        if (maxBatchTokens < 1) {
            throw new IllegalArgumentException("maxBatchTokens must be positive: " + maxBatchTokens);
        }
    }

    /** One lane per thread. */
    public OnnxOptions(int threads, int maxBatchSize, int maxBatchTokens, boolean spinning) {
        this(threads, threads, maxBatchSize, maxBatchTokens, spinning);
    }

    /** At most {@value #MAX_BATCH_TOKENS} padded tokens per run. */
    public OnnxOptions(int threads, int maxBatchSize, boolean spinning) {
        this(threads, maxBatchSize, MAX_BATCH_TOKENS, spinning);
    }

    /** No spinning. */
    public OnnxOptions(int threads, int maxBatchSize) {
        this(threads, maxBatchSize, false);
    }

    /**
     * Threads = available cores, one lane each, batches of {@value #DEFAULT_MAX_BATCH_SIZE}, no
     * spinning.
     */
    public static OnnxOptions defaults() {
        return new OnnxOptions(
                Runtime.getRuntime().availableProcessors(), DEFAULT_MAX_BATCH_SIZE, MAX_BATCH_TOKENS, false);
    }

    /** ONNX Runtime intra-op threads of one run. */
    public int threadsPerLane() {
        return threads / lanes;
    }
}
