package io.ragline.benchmarks;

import io.ragline.embeddings.ModelCatalog;
import io.ragline.embeddings.onnx.OnnxEmbeddingModel;
import io.ragline.embeddings.onnx.OnnxOptions;
import io.ragline.embeddings.tokenizer.Span;
import io.ragline.embeddings.tokenizer.WordPieceTokenizer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * In-JVM embedding throughput: chunks/s and real (unpadded) tokens/s by model, chunk length and
 * batch size. Batch 1 is one text per ONNX Runtime call, which is what LangChain4j's in-process
 * models do; the other rows are {@link OnnxEmbeddingModel}'s batching (sorted by length, padded
 * per batch). Chunks are cut from real text: the licenses in {@code /usr/share/common-licenses}
 * and this repository's docs.
 *
 * <p>{@code ./mvnw -q -pl benchmarks -am package dependency:build-classpath -DskipTests
 * -Dmdep.outputFile=target/cp.txt} then {@code java -cp "benchmarks/target/classes:$(cat
 * benchmarks/target/cp.txt)" [-Dthreads=N] [-Dspinning=true] io.ragline.benchmarks.EmbeddingBenchmark
 * [SECONDS_PER_CELL [MODEL,...]]}.
 */
public final class EmbeddingBenchmark {
    private static final int[] BATCH_SIZES = {1, 8, 32, 64};
    private static final int[] CHUNK_TOKENS = {30, 200};

    private EmbeddingBenchmark() {}

    public static void main(String[] args) throws IOException {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        List<String> models = args.length > 1
                ? List.of(args[1].split(","))
                : List.of("all-MiniLM-L6-v2", "all-MiniLM-L6-v2-q", "bge-small-en-v1.5");
        String corpus = corpus();
        int threads = Integer.getInteger("threads", Runtime.getRuntime().availableProcessors());
        boolean spinning = Boolean.getBoolean("spinning");
        int maxBatchTokens = Integer.getInteger("maxBatchTokens", OnnxOptions.MAX_BATCH_TOKENS);
        int rounds = Integer.getInteger("rounds", 1);
        System.out.printf(
                Locale.ROOT,
                "%d cores, %,d characters of text, %.0f s per cell, ONNX Runtime intra-op threads = %d,"
                        + " spinning = %s, at most %d padded tokens per run, medians of %d round(s)%n%n",
                Runtime.getRuntime().availableProcessors(),
                corpus.length(),
                seconds,
                threads,
                spinning,
                maxBatchTokens,
                rounds);
        System.out.println(
                "| model | tokens/chunk | batch | chunks/s | tokens/s | vs batch 1 | tokens/CPU-s | vs batch 1 (CPU) |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (String name : models) {
            try (OnnxEmbeddingModel model = OnnxEmbeddingModel.load(
                    ModelCatalog.get(name),
                    new OnnxOptions(threads, BATCH_SIZES[BATCH_SIZES.length - 1], maxBatchTokens, spinning))) {
                for (int tokens : CHUNK_TOKENS) {
                    List<String> chunks = chunks(model.tokenizer(), corpus, tokens);
                    // Each round measures every batch size once, one after the other, so a batch
                    // size is compared with one text per call measured moments before it: on a
                    // shared machine the rate drifts between minutes more than between batch sizes.
                    double[][][] r = new double[rounds][BATCH_SIZES.length][];
                    for (int round = 0; round < rounds; round++) {
                        for (int b = 0; b < BATCH_SIZES.length; b++) {
                            r[round][b] = measure(model, chunks, BATCH_SIZES[b], seconds);
                        }
                    }
                    for (int b = 0; b < BATCH_SIZES.length; b++) {
                        final int at = b;
                        System.out.printf(
                                Locale.ROOT,
                                "| %s | %d | %s | %,.1f | %,.0f | %.2fx | %,.0f | %.2fx |%n",
                                name,
                                tokens,
                                BATCH_SIZES[b] == 1 ? "1 (one per call)" : String.valueOf(BATCH_SIZES[b]),
                                median(r, round -> round[at][0]),
                                median(r, round -> round[at][1]),
                                median(r, round -> round[at][1] / round[0][1]),
                                median(r, round -> round[at][2]),
                                median(r, round -> round[at][2] / round[0][2]));
                    }
                }
            }
        }
    }

    /** The median over the rounds of {@code value}. */
    private static double median(double[][][] rounds, java.util.function.ToDoubleFunction<double[][]> value) {
        double[] v = java.util.Arrays.stream(rounds).mapToDouble(value).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /**
     * Chunks/s and real tokens/s (with [CLS] and [SEP], without padding) for calls of {@code batch}
     * texts, and real tokens per second of this process's CPU time: on a machine shared with other
     * work the wall-clock rates swing with the neighbours' load, the CPU-time rate much less.
     */
    private static double[] measure(OnnxEmbeddingModel model, List<String> chunks, int batch, double seconds) {
        int[] realTokens = new int[chunks.size()];
        for (int i = 0; i < chunks.size(); i++) {
            realTokens[i] = Math.min(model.maxTokens(), model.tokenizer().countTokens(chunks.get(i)) + 2);
        }
        model.embed(chunks.subList(0, Math.min(chunks.size(), batch * 2))); // warm-up
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long cpuStart = cpuNanos();
        long start = System.nanoTime();
        long texts = 0;
        long tokens = 0;
        int next = 0;
        while (System.nanoTime() < deadline) {
            if (next + batch > chunks.size()) {
                next = 0;
            }
            model.embed(chunks.subList(next, next + batch));
            for (int i = next; i < next + batch; i++) {
                tokens += realTokens[i];
            }
            texts += batch;
            next += batch;
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        double cpu = (cpuNanos() - cpuStart) / 1e9;
        return new double[] {texts / elapsed, tokens / elapsed, tokens / cpu};
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** Consecutive runs of {@code tokens} word pieces of the corpus, as the text they span. */
    static List<String> chunks(WordPieceTokenizer tokenizer, String corpus, int tokens) {
        List<Span> spans = tokenizer.wordPieceSpans(corpus);
        List<String> chunks = new ArrayList<>();
        for (int from = 0; from + tokens <= spans.size(); from += tokens) {
            chunks.add(corpus.substring(
                    spans.get(from).start(), spans.get(from + tokens - 1).end()));
        }
        return chunks;
    }

    static String corpus() throws IOException {
        StringBuilder text = new StringBuilder();
        List<Path> files = new ArrayList<>();
        Path licenses = Path.of("/usr/share/common-licenses");
        if (Files.isDirectory(licenses)) {
            try (Stream<Path> s = Files.list(licenses)) {
                s.filter(Files::isRegularFile).sorted().forEach(files::add);
            }
        }
        Path docs = Path.of(System.getProperty("ragline.home", "."), "docs");
        if (Files.isDirectory(docs)) {
            try (Stream<Path> s = Files.list(docs)) {
                s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
            }
        }
        for (Path f : files) {
            text.append(new String(Files.readAllBytes(f), StandardCharsets.UTF_8))
                    .append('\n');
        }
        if (text.length() < 100_000) {
            throw new IllegalStateException("not enough text to cut chunks from (" + text.length() + " characters in "
                    + files + "); run from the repository root");
        }
        return text.toString();
    }
}
