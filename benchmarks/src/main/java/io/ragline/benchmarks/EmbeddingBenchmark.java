package io.ragline.benchmarks;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15.BgeSmallEnV15EmbeddingModel;
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
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * In-JVM embedding throughput: chunks/s and real (unpadded) tokens/s by model, chunk length and
 * texts per call. The baseline is one text per ONNX Runtime call on all the threads; beside it the
 * same texts one per call on single-threaded calls side by side, {@link OnnxEmbeddingModel}'s
 * batches (sorted by length, padded per run, runs in lanes), and LangChain4j's own in-process model
 * of the same ONNX file ({@code embedAll}: one text per call, as many calls at once as cores).
 * Chunks are cut from real text: the licenses in {@code /usr/share/common-licenses} and this
 * repository's docs.
 *
 * <p>{@code ./mvnw -q -pl benchmarks -am package dependency:build-classpath -DskipTests
 * -Dmdep.outputFile=target/cp.txt} then {@code java -cp "benchmarks/target/classes:$(cat
 * benchmarks/target/cp.txt)" [-Dthreads=N] [-Dlanes=N] [-Dspinning=true] [-Drounds=N] io.ragline.benchmarks.EmbeddingBenchmark
 * [SECONDS_PER_CELL [MODEL,...]]}.
 */
public final class EmbeddingBenchmark {
    private static final int[] BATCH_SIZES = {8, 32, 64};
    private static final int[] CHUNK_TOKENS = {30, 200};

    private EmbeddingBenchmark() {}

    /**
     * One row of the table: a way of embedding {@code texts} chunks per call, computing {@code
     * tokens} of each chunk.
     */
    private record Cell(String label, int texts, Calls calls, int[] tokens) {}

    /**
     * The tokenizer.json that LangChain4j ships with its MiniLM models truncates every text at this
     * many tokens (bge-small's does not), so that is all it computes of a longer chunk.
     */
    private static final int LANGCHAIN4J_MINILM_TRUNCATION = 128;

    /** What a run measures: the command line's arguments and the {@code -D} properties. */
    private record Options(
            double seconds,
            List<String> models,
            int threads,
            int lanes,
            boolean spinning,
            int maxBatchTokens,
            int rounds) {
        static Options of(String[] args) {
            int threads = Integer.getInteger("threads", Runtime.getRuntime().availableProcessors());
            return new Options(
                    args.length > 0 ? Double.parseDouble(args[0]) : 5,
                    args.length > 1
                            ? List.of(args[1].split(","))
                            : List.of("all-MiniLM-L6-v2", "all-MiniLM-L6-v2-q", "bge-small-en-v1.5"),
                    threads,
                    Integer.getInteger("lanes", threads),
                    Boolean.getBoolean("spinning"),
                    Integer.getInteger("maxBatchTokens", OnnxOptions.MAX_BATCH_TOKENS),
                    Integer.getInteger("rounds", 1));
        }

        OnnxOptions onnx(int threads, int lanes) {
            return new OnnxOptions(threads, lanes, LARGEST, maxBatchTokens, spinning);
        }
    }

    private static final int LARGEST = BATCH_SIZES[BATCH_SIZES.length - 1];

    public static void main(String[] args) throws Exception {
        Options o = Options.of(args);
        String corpus = corpus();
        System.out.printf(
                Locale.ROOT,
                "%d cores, %,d characters of text, %.1f s per cell, %d ONNX Runtime threads in %d lane(s) for"
                        + " batches, spinning = %s, at most %d padded tokens per run, medians of %d round(s)%n%n",
                Runtime.getRuntime().availableProcessors(),
                corpus.length(),
                o.seconds(),
                o.threads(),
                o.lanes(),
                o.spinning(),
                o.maxBatchTokens(),
                o.rounds());
        System.out.println(
                "| model | tokens/chunk | texts per call | chunks/s | tokens/s | vs one per call | tokens/CPU-s |"
                        + " vs one per call (CPU) |");
        System.out.println("|---|---:|---|---:|---:|---:|---:|---:|");
        ExecutorService sideBySide = Executors.newFixedThreadPool(o.threads());
        for (String name : o.models()) {
            benchmark(name, corpus, o, sideBySide);
        }
        sideBySide.shutdown();
    }

    /** Every row of one model: each chunk length, each way of embedding. */
    private static void benchmark(String name, String corpus, Options o, ExecutorService sideBySide) throws Exception {
        // One text per call on all the threads, as an application calling ONNX Runtime per text
        // would: the baseline. The same texts, one per call, on single-threaded calls side by
        // side. Then Ragline's batches, and LangChain4j's own in-process model.
        try (OnnxEmbeddingModel single = OnnxEmbeddingModel.load(ModelCatalog.get(name), o.onnx(o.threads(), 1));
                OnnxEmbeddingModel model =
                        OnnxEmbeddingModel.load(ModelCatalog.get(name), o.onnx(o.threads(), o.lanes()));
                OnnxEmbeddingModel oneThread = OnnxEmbeddingModel.load(ModelCatalog.get(name), o.onnx(1, 1))) {
            EmbeddingModel reference = Boolean.getBoolean("skipLangChain4j") ? null : langChain4j(name);
            for (int tokens : CHUNK_TOKENS) {
                List<String> chunks = chunks(model.tokenizer(), corpus, tokens);
                int[] realTokens = realTokens(model, chunks);
                List<Cell> cells = new ArrayList<>();
                cells.add(new Cell(
                        "1 (one per call)", 1, (from, to) -> single.embed(chunks.subList(from, to)), realTokens));
                if (o.threads() > 1) {
                    cells.add(new Cell(
                            "1, " + o.threads() + " single-threaded calls side by side",
                            o.threads(),
                            (from, to) -> eachAlone(sideBySide, oneThread, chunks.subList(from, to)),
                            realTokens));
                }
                for (int b : BATCH_SIZES) {
                    cells.add(new Cell(
                            String.valueOf(b), b, (from, to) -> model.embed(chunks.subList(from, to)), realTokens));
                }
                if (o.lanes() > 1) {
                    cells.add(new Cell(
                            LARGEST + ", in one lane of " + o.threads() + " threads",
                            LARGEST,
                            (from, to) -> single.embed(chunks.subList(from, to)),
                            realTokens));
                }
                if (reference != null) {
                    cells.add(langChain4jCell(name, reference, chunks, realTokens));
                }
                printRows(name, tokens, cells, measureRounds(cells, realTokens, o));
            }
        }
    }

    /**
     * LangChain4j embeds a list one text per ONNX Runtime call, on as many threads as there are
     * cores: given the same texts as the largest batch.
     */
    private static Cell langChain4jCell(String name, EmbeddingModel reference, List<String> chunks, int[] realTokens) {
        List<TextSegment> segments = chunks.stream().map(TextSegment::from).toList();
        int[] computed = realTokens;
        String label = "LangChain4j `embedAll` of " + LARGEST;
        if (name.startsWith("all-MiniLM-L6-v2")) {
            computed = Arrays.stream(realTokens)
                    .map(t -> Math.min(t, LANGCHAIN4J_MINILM_TRUNCATION))
                    .toArray();
            label += " (its tokenizer stops at " + LANGCHAIN4J_MINILM_TRUNCATION + " tokens)";
        }
        return new Cell(label, LARGEST, (from, to) -> reference.embedAll(segments.subList(from, to)), computed);
    }

    /**
     * Each round measures every cell once, one after the other, so a cell is compared with one
     * text per call measured moments before it: on a shared machine the rate drifts between
     * minutes more than between cells. Returns, per round and cell, {@link #measure}'s rates.
     */
    private static double[][][] measureRounds(List<Cell> cells, int[] realTokens, Options o) {
        double[][][] r = new double[o.rounds()][cells.size()][];
        for (int round = 0; round < o.rounds(); round++) {
            for (int c = 0; c < cells.size(); c++) {
                r[round][c] =
                        measure(cells.get(c).calls(), realTokens, cells.get(c).texts(), o.seconds());
            }
        }
        return r;
    }

    private static void printRows(String name, int tokens, List<Cell> cells, double[][][] r) {
        for (int c = 0; c < cells.size(); c++) {
            final int at = c;
            System.out.printf(
                    Locale.ROOT,
                    "| %s | %d | %s | %,.1f | %,.0f | %.2fx | %,.0f | %.2fx |%n",
                    name,
                    tokens,
                    cells.get(c).label(),
                    median(r, round -> round[at][0]),
                    median(r, round -> round[at][1]),
                    median(r, round -> round[at][1] / round[0][1]),
                    median(r, round -> round[at][2]),
                    median(r, round -> round[at][2] / round[0][2]));
        }
    }

    /** Embeds each of {@code texts} in its own call, all at once on {@code threads}. */
    private static void eachAlone(ExecutorService threads, OnnxEmbeddingModel model, List<String> texts) {
        List<Future<?>> calls = new ArrayList<>();
        for (String text : texts) {
            calls.add(threads.submit(() -> model.embed(List.of(text))));
        }
        for (Future<?> call : calls) {
            try {
                call.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
    }

    /** The median over the rounds of {@code value}. */
    private static double median(double[][][] rounds, java.util.function.ToDoubleFunction<double[][]> value) {
        double[] v = java.util.Arrays.stream(rounds).mapToDouble(value).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Real tokens of each chunk, with [CLS] and [SEP], as the model is fed them. */
    private static int[] realTokens(OnnxEmbeddingModel model, List<String> chunks) {
        int[] realTokens = new int[chunks.size()];
        for (int i = 0; i < chunks.size(); i++) {
            realTokens[i] = Math.min(model.maxTokens(), model.tokenizer().countTokens(chunks.get(i)) + 2);
        }
        return realTokens;
    }

    /**
     * Chunks/s and real tokens/s (with [CLS] and [SEP], without padding) for calls of {@code batch}
     * texts, and real tokens per second of this process's CPU time: on a machine shared with other
     * work the wall-clock rates swing with the neighbours' load, the CPU-time rate much less.
     */
    private static double[] measure(Calls embed, int[] realTokens, int batch, double seconds) {
        embed.run(0, Math.min(realTokens.length, batch * 2)); // warm-up
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long cpuStart = cpuNanos();
        long start = System.nanoTime();
        long texts = 0;
        long tokens = 0;
        int next = 0;
        while (System.nanoTime() < deadline) {
            if (next + batch > realTokens.length) {
                next = 0;
            }
            embed.run(next, next + batch);
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

    /** One call embedding the chunks {@code [from, to)}. */
    @FunctionalInterface
    private interface Calls {
        void run(int from, int to);
    }

    /** LangChain4j's in-process model of the same ONNX file, or null where it ships none. */
    private static EmbeddingModel langChain4j(String name) {
        return switch (name) {
            case "all-MiniLM-L6-v2" -> new AllMiniLmL6V2EmbeddingModel();
            case "all-MiniLM-L6-v2-q" -> new AllMiniLmL6V2QuantizedEmbeddingModel();
            case "bge-small-en-v1.5" -> new BgeSmallEnV15EmbeddingModel();
            default -> null;
        };
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
