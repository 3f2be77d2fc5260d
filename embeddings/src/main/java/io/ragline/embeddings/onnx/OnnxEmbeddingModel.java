package io.ragline.embeddings.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingModelSpec;
import io.ragline.embeddings.EmbeddingModelSpec.Pooling;
import io.ragline.embeddings.EmbeddingProvider;
import io.ragline.embeddings.ModelResources;
import io.ragline.embeddings.Vectors;
import io.ragline.embeddings.tokenizer.WordPieceTokenizer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embedding model run in this JVM by ONNX Runtime, offline. One session per instance (create
 * one per model per process; it is thread-safe), using the cores of {@link OnnxOptions#threads()}.
 *
 * <p>Batching is where the speed is: texts are tokenized, sorted by length and cut into batches of
 * at most {@code maxBatchSize}; each batch is padded only to its own longest text and run once;
 * token states are pooled under the attention mask (mean) or taken at {@code [CLS]}, L2-normalised,
 * and returned in the caller's order. Texts longer than the model's window are truncated.
 *
 * <p>The runs of one call go side by side in {@link OnnxOptions#lanes() lanes}: the calling thread
 * is one, the model's own daemon threads the others, the longest runs first; a call is cut into
 * at least as many runs as there are lanes when it has the texts for it. Concurrent callers share
 * the lane threads; each caller also runs its own call's runs, so none waits for another's.
 */
public final class OnnxEmbeddingModel implements EmbeddingProvider {
    private static final Logger log = LoggerFactory.getLogger(OnnxEmbeddingModel.class);

    private final EmbeddingModelSpec spec;
    private final OnnxOptions options;
    private final WordPieceTokenizer tokenizer;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final boolean wantsTokenTypes;
    private final String output;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final ThreadLocal<InputBuffers> buffers;
    /** The lanes beyond the caller's; null with one lane. */
    private final ExecutorService laneThreads;

    private boolean closed;

    private OnnxEmbeddingModel(EmbeddingModelSpec spec, OnnxOptions options) throws Exception {
        this.spec = spec;
        this.options = options;
        this.tokenizer = WordPieceTokenizer.forModel(spec);
        this.env = BigStack.call("onnx-init", OrtEnvironment::getEnvironment);
        this.session = BigStack.call("onnx-load-" + spec.name(), () -> createSession(env, spec, options));
        Set<String> inputs = session.getInputNames();
        if (!inputs.contains("input_ids") || !inputs.contains("attention_mask")) {
            session.close();
            throw new IllegalStateException(
                    "model '" + spec.name() + "' expects inputs " + inputs + ", not input_ids and attention_mask");
        }
        this.wantsTokenTypes = inputs.contains("token_type_ids");
        this.output = session.getOutputNames().iterator().next();
        // A run holds at most maxBatchTokens padded tokens, or one text of up to the window.
        int capacity = (int) Math.min(
                (long) options.maxBatchSize() * spec.maxTokens(), Math.max(options.maxBatchTokens(), spec.maxTokens()));
        this.buffers = ThreadLocal.withInitial(() -> new InputBuffers(capacity));
        this.laneThreads = options.lanes() > 1 ? laneThreads(spec.name(), options.lanes() - 1) : null;
        log.info(
                "loaded embedding model {} ({} dimensions, {} tokens, {} threads in {} lanes, batches of {})",
                spec.name(),
                spec.dimensions(),
                spec.maxTokens(),
                options.threads(),
                options.lanes(),
                options.maxBatchSize());
    }

    private static ExecutorService laneThreads(String model, int count) {
        AtomicInteger n = new AtomicInteger();
        return Executors.newFixedThreadPool(count, task -> {
            Thread t = new Thread(task, "onnx-" + model + "-lane-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    private static OrtSession createSession(OrtEnvironment env, EmbeddingModelSpec spec, OnnxOptions options)
            throws OrtException {
        try (SessionOptions so = new SessionOptions()) {
            so.setOptimizationLevel(OptLevel.ALL_OPT);
            so.setIntraOpNumThreads(options.threadsPerLane());
            so.setInterOpNumThreads(1);
            so.setExecutionMode(SessionOptions.ExecutionMode.SEQUENTIAL);
            // Spinning worker threads cut latency on an idle machine but burn the cores that
            // Postgres, Kafka clients and other workers on the same host need.
            so.addConfigEntry("session.intra_op.allow_spinning", options.spinning() ? "1" : "0");
            return env.createSession(ModelResources.onnxBytes(spec), so);
        }
    }

    /**
     * Loads {@code spec}'s graph from the classpath into a new ONNX Runtime session.
     *
     * @throws EmbeddingException (not retryable) if ONNX Runtime cannot load it
     */
    public static OnnxEmbeddingModel load(EmbeddingModelSpec spec, OnnxOptions options) {
        try {
            return new OnnxEmbeddingModel(spec, options);
        } catch (OrtException e) {
            throw new EmbeddingException("cannot load ONNX model '" + spec.name() + "': " + e.getMessage(), false, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddingException("interrupted while loading ONNX model '" + spec.name() + "'", true, e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new EmbeddingException("cannot load ONNX model '" + spec.name() + "': " + e, false, e);
        }
    }

    public EmbeddingModelSpec spec() {
        return spec;
    }

    /** The tokenizer whose ids this model is fed. */
    public WordPieceTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public String model() {
        return spec.name();
    }

    @Override
    public int dimensions() {
        return spec.dimensions();
    }

    @Override
    public int maxTokens() {
        return spec.maxTokens();
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        if (texts.isEmpty()) {
            return List.of();
        }
        int n = texts.size();
        int[][] ids = new int[n][];
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            ids[i] = tokenizer.encode(texts.get(i), spec.maxTokens());
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> ids[i].length));
        float[][] vectors = new float[n][];
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("embedding model " + spec.name() + " is closed");
            }
            int[] lengths = new int[n];
            for (int k = 0; k < n; k++) {
                lengths[k] = ids[order[k]].length;
            }
            List<int[]> runs = runs(lengths, options);
            if (runs.size() == 1 || laneThreads == null) {
                for (int[] run : runs) {
                    runBatch(ids, order, run[0], run[1], vectors);
                }
            } else {
                inLanes(runs, ids, order, vectors);
            }
        } catch (OrtException e) {
            throw new EmbeddingException(
                    "ONNX Runtime failed on model " + spec.name() + ": " + e.getMessage(), false, e);
        } finally {
            lifecycle.readLock().unlock();
        }
        return Arrays.asList(vectors);
    }

    /**
     * Cuts texts of {@code lengths} (ascending) into runs {@code [from, to)}. They are first split
     * into as many near-equal groups as there are lanes (one group with one lane), then each group
     * into runs that grow while they have room in both bounds: texts, and padded tokens. Short
     * texts go many at a time; long ones in small runs, where large runs of long sequences measured
     * slower (docs/benchmarks.md).
     */
    static List<int[]> runs(int[] lengths, OnnxOptions options) {
        int n = lengths.length;
        int groups = Math.min(n, options.lanes());
        List<int[]> runs = new ArrayList<>();
        for (int g = 0; g < groups; g++) {
            int end = (int) ((long) (g + 1) * n / groups);
            int from = (int) ((long) g * n / groups);
            while (from < end) {
                int to = from + 1;
                while (to < end
                        && to - from < options.maxBatchSize()
                        && (long) (to - from + 1) * lengths[to] <= options.maxBatchTokens()) {
                    to++;
                }
                runs.add(new int[] {from, to});
                from = to;
            }
        }
        return runs;
    }

    /**
     * Runs {@code runs} on the calling thread and on the lane threads that are free, each taking the
     * next run, the longest (last) first, until none is left. Returns when every run has ended,
     * so the session cannot be closed under one: a lane thread that starts after that finds no run
     * and leaves without touching the session. The caller takes runs too, so it never waits for a
     * lane thread busy with another caller's call. After a run fails the others are skipped, and
     * the first failure is thrown. An interrupt is kept for the caller, not acted on, as ONNX
     * Runtime's own runs cannot be interrupted either.
     */
    private void inLanes(List<int[]> runs, int[][] ids, Integer[] order, float[][] vectors) throws OrtException {
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch ended = new CountDownLatch(runs.size());
        Runnable lane = () -> {
            for (int r = next.getAndIncrement(); r < runs.size(); r = next.getAndIncrement()) {
                try {
                    if (failure.get() == null) {
                        int[] run = runs.get(runs.size() - 1 - r);
                        runBatch(ids, order, run[0], run[1], vectors);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    ended.countDown();
                }
            }
        };
        for (int i = 1; i < Math.min(options.lanes(), runs.size()); i++) {
            laneThreads.execute(lane);
        }
        lane.run();
        boolean interrupted = false;
        while (true) {
            try {
                ended.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable failed = failure.get();
        if (failed instanceof OrtException e) {
            throw e;
        } else if (failed instanceof RuntimeException e) {
            throw e;
        } else if (failed instanceof Error e) {
            throw e;
        } else if (failed != null) {
            throw new EmbeddingException("embedding run failed on model " + spec.name() + ": " + failed, false, failed);
        }
    }

    @Override
    public float[] embedQuery(String text) {
        return embed(List.of(spec.queryPrefix() + text)).get(0);
    }

    /** One {@code run} for {@code order[from..to)}, padded to the longest of them. */
    private void runBatch(int[][] ids, Integer[] order, int from, int to, float[][] vectors) throws OrtException {
        int rows = to - from;
        int width = 0;
        for (int k = from; k < to; k++) {
            width = Math.max(width, ids[order[k]].length);
        }
        InputBuffers b = buffers.get();
        LongBuffer inputIds = b.inputIds(rows * width);
        LongBuffer mask = b.mask(rows * width);
        for (int k = from; k < to; k++) {
            int[] row = ids[order[k]];
            for (int t = 0; t < width; t++) {
                boolean real = t < row.length;
                inputIds.put(real ? row[t] : tokenizer.padId());
                mask.put(real ? 1L : 0L);
            }
        }
        inputIds.flip();
        mask.flip();
        long[] shape = {rows, width};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(env, inputIds, shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, mask, shape));
            if (wantsTokenTypes) {
                inputs.put("token_type_ids", OnnxTensor.createTensor(env, b.zeros(rows * width), shape));
            }
            try (OrtSession.Result result = session.run(inputs, Set.of(output))) {
                OnnxTensor hidden = (OnnxTensor) result.get(0);
                long[] outShape = hidden.getInfo().getShape();
                int dims = (int) outShape[2];
                if (dims != spec.dimensions()) {
                    throw new EmbeddingException(
                            "model " + spec.name() + " produced " + dims + " dimensions, expected " + spec.dimensions(),
                            false);
                }
                FloatBuffer states = hidden.getFloatBuffer();
                for (int r = 0; r < rows; r++) {
                    int index = order[from + r];
                    vectors[index] = pool(states, r, width, dims, ids[index].length);
                }
            }
        } finally {
            for (OnnxTensor t : inputs.values()) {
                t.close();
            }
        }
    }

    /** Pools row {@code r} of {@code [rows, width, dims]} states over its {@code length} real tokens. */
    private float[] pool(FloatBuffer states, int r, int width, int dims, int length) {
        float[] v = new float[dims];
        int base = r * width * dims;
        if (spec.pooling() == Pooling.CLS) {
            states.get(base, v);
        } else {
            for (int t = 0; t < length; t++) {
                int at = base + t * dims;
                for (int d = 0; d < dims; d++) {
                    v[d] += states.get(at + d);
                }
            }
            for (int d = 0; d < dims; d++) {
                v[d] /= length;
            }
        }
        return spec.normalize() ? Vectors.normalize(v) : v;
    }

    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                if (laneThreads != null) {
                    laneThreads.shutdown();
                }
                session.close();
                log.info("closed embedding model {}", spec.name());
            }
        } catch (OrtException e) {
            log.warn("closing embedding model {} failed: {}", spec.name(), e.getMessage());
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "OnnxEmbeddingModel[" + spec.name() + ", threads=" + options.threads() + ", lanes=" + options.lanes()
                + ", batch="
                + options.maxBatchSize() + "]";
    }
}
