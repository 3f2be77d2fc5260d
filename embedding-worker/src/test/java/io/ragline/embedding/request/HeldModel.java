package io.ragline.embedding.request;

import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** A model whose first {@code held} calls each wait until {@link #release}d; later calls answer at once. */
class HeldModel implements EmbeddingProvider {
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger interrupted = new AtomicInteger();
    private final List<CountDownLatch> latches = new ArrayList<>();

    HeldModel(int held) {
        for (int i = 0; i < held; i++) {
            latches.add(new CountDownLatch(1));
        }
    }

    /** Lets call {@code n} (from 1) answer. */
    void release(int n) {
        latches.get(n - 1).countDown();
    }

    @Override
    public String model() {
        return "held";
    }

    @Override
    public int dimensions() {
        return 8;
    }

    @Override
    public int maxTokens() {
        return 8191;
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        int n = calls.incrementAndGet();
        if (n <= latches.size()) {
            try {
                latches.get(n - 1).await();
            } catch (InterruptedException e) {
                interrupted.incrementAndGet();
                Thread.currentThread().interrupt();
                throw new EmbeddingException("interrupted", true, e);
            }
        }
        return texts.stream().map(t -> unit()).toList();
    }

    @Override
    public float[] embedQuery(String text) {
        return unit();
    }

    private static float[] unit() {
        float[] v = new float[8];
        v[0] = 1;
        return v;
    }

    @Override
    public void close() {}
}
