package io.ragline.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.benchmarks.corpus.Corpus;
import io.ragline.benchmarks.corpus.CorpusDocument;
import io.ragline.benchmarks.corpus.ManPages;
import io.ragline.embeddings.ModelCatalog;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Corpus to searchable, side by side on the same corpus and the same Postgres: Ragline's whole
 * pipeline with its defaults against what a Java user would write instead, LangChain4j's
 * {@code EmbeddingStoreIngestor} into {@code PgVectorEmbeddingStore} (the
 * {@code benchmarks-langchain4j} module, in a JVM of its own). Rounds are interleaved (peer,
 * Ragline, peer, Ragline, ...), each into a fresh table or collection; each round reports corpus
 * characters per second, the tokens each side actually embedded and the load average, then the
 * medians and the ratio Ragline / peer with the spread of the per-round ratios.
 *
 * <ul>
 *   <li>Ragline: event-dispatcher, ingest-worker and embedding-worker in this JVM
 *       ({@link RaglinePipeline}), warmed with a small corpus first; the corpus is published from
 *       this JVM by one producer, timed from the first send to the last document's
 *       {@code embedded_at}, read over one connection.
 *   <li>The peer: recursive splitter (1,000 characters, 100 overlap), the title in front of each
 *       segment, the in-process MiniLM, an HNSW cosine index made before the ingest (m = 16,
 *       ef_construction = 64, as Ragline's); a warm-up ingest first in each round, then only the
 *       {@code ingest(...)} call is timed.
 * </ul>
 *
 * <p>Arguments: {@code [rounds (3)] [corpus: a number of man pages, 1-120 (120), or a corpus
 * .jsonl file] [model: defaults (default) | fp32 | int8]}. defaults runs each side's default
 * model (Ragline's {@link ModelCatalog#DEFAULT_MODEL}, LangChain4j's in-process fp32
 * all-MiniLM-L6-v2), as a user of either gets it; fp32 and int8 run the same model on both sides.
 *
 * <p>{@code ./mvnw -B -q package -pl benchmarks-langchain4j,benchmarks -am -DskipTests && ./mvnw -q
 * -pl benchmarks exec:java -Dexec.mainClass=io.ragline.benchmarks.IngestComparisonBenchmark
 * -Dexec.args="3 120 defaults"}
 */
public final class IngestComparisonBenchmark {
    static final String PEER = "LangChain4j EmbeddingStoreIngestor";
    static final String RAGLINE = "Ragline pipeline (defaults)";

    static final String HEADER = "| round | side | model | documents | chunks | tokens embedded (of the text's)"
            + " | seconds | corpus chars/s | tokens/s | load avg |";
    static final String HEADER_RULE = "|---:|---|---|---:|---:|---:|---:|---:|---:|---|";

    /** How long Ragline may take to embed one round's corpus before the run fails. */
    private static final Duration ROUND_TIMEOUT = Duration.ofMinutes(30);

    /** The models the sides run: Ragline's collection model and the peer's {@code --model}. */
    enum Model {
        DEFAULTS(ModelCatalog.DEFAULT_MODEL, "all-minilm-l6-v2"),
        FP32("all-MiniLM-L6-v2", "all-minilm-l6-v2"),
        INT8("all-MiniLM-L6-v2-q", "all-minilm-l6-v2-q");

        final String ragline;
        final String peer;

        Model(String ragline, String peer) {
            this.ragline = ragline;
            this.peer = peer;
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** @param corpus a number of man pages, or the path of a corpus file */
    record Options(int rounds, String corpus, Model model) {
        Options {
            if (rounds < 1) {
                throw new IllegalArgumentException("rounds must be at least 1, not " + rounds);
            }
        }

        static Options parse(String[] args) {
            if (args.length > 3) {
                throw new IllegalArgumentException(
                        "at most 3 arguments: [rounds] [pages|corpus.jsonl] [defaults|fp32|int8]");
            }
            int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
            String corpus = args.length > 1 ? args[1] : String.valueOf(ManPages.PAGE_COUNT);
            String model = args.length > 2 ? args[2] : "defaults";
            return switch (model) {
                case "defaults" -> new Options(rounds, corpus, Model.DEFAULTS);
                case "fp32" -> new Options(rounds, corpus, Model.FP32);
                case "int8" -> new Options(rounds, corpus, Model.INT8);
                default ->
                    throw new IllegalArgumentException("model must be defaults, fp32 or int8, not '" + model + "'");
            };
        }
    }

    /**
     * One side's round. {@code storedDocuments}: the corpus documents found in its table or
     * collection afterwards, with vectors.
     */
    record Round(
            int number,
            String side,
            long documents,
            long storedDocuments,
            long pieces,
            long tokensEmbedded,
            long tokensTotal,
            double seconds,
            double charsPerSecond,
            String loadAverage) {}

    record Result(List<CorpusDocument> corpus, List<Round> peer, List<Round> ragline) {}

    private IngestComparisonBenchmark() {}

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("IngestComparisonBenchmark: " + e.getMessage());
            System.exit(2);
            return;
        }
        run(options, System.out);
    }

    static Result run(Options options, PrintStream out) throws Exception {
        String loadAtStart = Machine.loadAverage();
        List<CorpusDocument> corpus = corpus(options.corpus());
        List<CorpusDocument> warmup = corpus.subList(0, Math.max(1, Math.min(5, corpus.size() / 4)));
        Path dir = Files.createTempDirectory("ingest-comparison");
        try (RaglinePipeline pipeline = RaglinePipeline.start("ingest-comparison")) {
            Path corpusFile = dir.resolve("corpus.jsonl");
            Path warmupFile = dir.resolve("warmup.jsonl");
            Corpus.write(corpusFile, corpus);
            Corpus.write(warmupFile, warmup);
            PeerProcess peer = PeerProcess.locate(pipeline.rawDatabaseUrl());
            warmUp(pipeline, options.model(), warmup);
            List<String> rows = preface(pipeline, options, corpus, loadAtStart);
            rows.forEach(out::println);
            List<Round> peerRounds = new ArrayList<>();
            List<Round> raglineRounds = new ArrayList<>();
            for (int i = 1; i <= options.rounds(); i++) {
                Round p = peerRound(i, peer, pipeline, options.model(), corpusFile, warmupFile, corpus);
                rows.add(row(p, options.model()));
                out.println(rows.get(rows.size() - 1));
                peerRounds.add(p);
                Round r = raglineRound(i, pipeline, options.model(), corpus);
                rows.add(row(r, options.model()));
                out.println(rows.get(rows.size() - 1));
                raglineRounds.add(r);
            }
            rows.addAll(summary(peerRounds, raglineRounds, options.model()));
            // the whole table again in one piece: the workers' log lines interleave with the rows above
            out.println();
            out.println("Markdown for docs/benchmarks.md:");
            out.println();
            rows.forEach(out::println);
            return new Result(corpus, peerRounds, raglineRounds);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The first {@code n} man pages when the argument is a number, else the corpus file it names. */
    static List<CorpusDocument> corpus(String argument) throws Exception {
        List<CorpusDocument> corpus =
                argument.matches("\\d+") ? ManPages.build(Integer.parseInt(argument)) : Corpus.read(Path.of(argument));
        if (corpus.isEmpty()) {
            throw new IllegalArgumentException("the corpus " + argument + " has no documents");
        }
        return corpus;
    }

    private static void warmUp(RaglinePipeline pipeline, Model model, List<CorpusDocument> warmup) throws Exception {
        pipeline.createCollection("warmup", model.ragline);
        for (CorpusDocument d : warmup) {
            pipeline.publish("warmup", d.id(), d.title(), d.text());
        }
        pipeline.flush();
        pipeline.awaitEmbedded("warmup", warmup.size(), ROUND_TIMEOUT);
    }

    private static Round peerRound(
            int number,
            PeerProcess peer,
            RaglinePipeline pipeline,
            Model model,
            Path corpusFile,
            Path warmupFile,
            List<CorpusDocument> corpus)
            throws Exception {
        String load = Machine.loadAverage();
        String table = "peer_r" + number;
        List<JsonNode> lines = peer.run(List.of(
                "ingest",
                "--corpus",
                corpusFile.toString(),
                "--table",
                table,
                "--model",
                model.peer,
                "--warmup-corpus",
                warmupFile.toString(),
                "--schema",
                pipeline.schema()));
        if (lines.size() != 1) {
            throw new IllegalStateException("the peer's ingest printed " + lines.size() + " JSON lines, not 1");
        }
        JsonNode r = lines.get(0);
        long stored = pipeline.count("select count(distinct metadata->>'id') from " + pipeline.schema() + "." + table);
        double seconds = r.get("seconds").asDouble();
        return new Round(
                number,
                PEER,
                r.get("documents").asLong(),
                stored,
                r.get("segments").asLong(),
                r.path("tokens_embedded").asLong(-1),
                r.path("tokens_total").asLong(-1),
                seconds,
                Corpus.chars(corpus) / seconds,
                load);
    }

    private static Round raglineRound(int number, RaglinePipeline pipeline, Model model, List<CorpusDocument> corpus)
            throws Exception {
        String load = Machine.loadAverage();
        String collection = "round-" + number;
        pipeline.createCollection(collection, model.ragline);
        Instant firstSend = Instant.now();
        for (CorpusDocument d : corpus) {
            pipeline.publish(collection, d.id(), d.title(), d.text());
        }
        pipeline.flush();
        pipeline.awaitEmbedded(collection, corpus.size(), ROUND_TIMEOUT);
        String s = pipeline.schema();
        try (PreparedStatement q = pipeline.connection()
                .prepareStatement("select max(d.embedded_at), count(*) filter (where d.status = 'embedded'),"
                        + " (select count(*) from " + s + ".chunks ch join " + s + ".chunk_embeddings e on e.chunk_id"
                        + " = ch.id where ch.collection_id = c.id), (select coalesce(sum(ch.token_count), 0) from " + s
                        + ".chunks ch where ch.collection_id = c.id) from " + s + ".documents d join " + s
                        + ".collections c on c.id = d.collection_id where c.name = ? group by c.id")) {
            q.setString(1, collection);
            try (ResultSet rs = q.executeQuery()) {
                rs.next();
                Instant lastEmbedded = rs.getObject(1, OffsetDateTime.class).toInstant();
                double seconds = Duration.between(firstSend, lastEmbedded).toNanos() / 1e9;
                long tokens = rs.getLong(4);
                return new Round(
                        number,
                        RAGLINE,
                        corpus.size(),
                        rs.getLong(2),
                        rs.getLong(3),
                        tokens,
                        tokens,
                        seconds,
                        Corpus.chars(corpus) / seconds,
                        load);
            }
        }
    }

    /** The lines above the table: machine, corpus, model, load, the settings of both sides. */
    private static List<String> preface(
            RaglinePipeline pipeline, Options options, List<CorpusDocument> corpus, String load) throws Exception {
        List<String> lines = new ArrayList<>();
        lines.add("machine: " + Machine.describe(pipeline.connection()));
        lines.add(String.format(
                Locale.ROOT,
                "corpus: %s, %d documents, %,d characters; model %s (Ragline %s, peer %s); load average at start %s",
                options.corpus().matches("\\d+") ? "man pages (MANWIDTH=80 man -P cat | col -bx)" : options.corpus(),
                corpus.size(),
                Corpus.chars(corpus),
                options.model().label(),
                options.model().ragline,
                options.model().peer,
                load));
        lines.add("both sides: HNSW cosine index, m = 16, ef_construction = 64, made before the first vector");
        try (var s = pipeline.connection().createStatement();
                ResultSet rs = s.executeQuery("select chunk_size_tokens, chunk_overlap_tokens, chunk_template from "
                        + pipeline.schema() + ".collections where name = 'warmup'")) {
            rs.next();
            lines.add(String.format(
                    Locale.ROOT,
                    "Ragline: collection defaults, chunks of %d tokens, overlap %d, template %s; whole text embedded",
                    rs.getInt(1),
                    rs.getInt(2),
                    rs.getString(3).replace("\n", "\\n")));
        }
        lines.add("peer: DocumentSplitters.recursive(1000, 100), title + \"\\n\" + segment; its tokenizer cuts each"
                + " segment at 128 tokens (126 without [CLS]/[SEP])");
        lines.add("");
        lines.add(HEADER);
        lines.add(HEADER_RULE);
        return lines;
    }

    static String row(Round r, Model model) {
        String pieces = r.pieces() + (r.side().equals(PEER) ? " segments" : " chunks");
        String tokens = r.tokensEmbedded() < 0
                ? "n/a"
                : String.format(Locale.ROOT, "%,d of %,d", r.tokensEmbedded(), r.tokensTotal());
        return String.format(
                Locale.ROOT,
                "| %d | %s | %s | %d | %s | %s | %.2f | %,.0f | %,.0f | %s |",
                r.number(),
                r.side(),
                r.side().equals(PEER) ? model.peer : model.ragline,
                r.storedDocuments(),
                pieces,
                tokens,
                r.seconds(),
                r.charsPerSecond(),
                r.tokensEmbedded() / r.seconds(),
                r.loadAverage());
    }

    /**
     * A median row per side (seconds, chars/s and tokens/s each the median of its rounds), then
     * the ratio Ragline / peer of the median chars/s, with the spread of the ratios of paired
     * rounds (peer round i, Ragline round i).
     */
    static List<String> summary(List<Round> peer, List<Round> ragline, Model model) {
        double min = Double.MAX_VALUE;
        double max = 0;
        for (int i = 0; i < peer.size(); i++) {
            double ratio = ragline.get(i).charsPerSecond() / peer.get(i).charsPerSecond();
            min = Math.min(min, ratio);
            max = Math.max(max, ratio);
        }
        double ratio = median(ragline, Round::charsPerSecond) / median(peer, Round::charsPerSecond);
        return List.of(
                medianRow(PEER, model.peer, peer),
                medianRow(RAGLINE, model.ragline, ragline),
                "",
                String.format(
                        Locale.ROOT,
                        "Ragline / LangChain4j, corpus chars/s: **%.2f×** (medians of %d rounds each; paired rounds"
                                + " %.2f–%.2f×)",
                        ratio,
                        peer.size(),
                        min,
                        max));
    }

    private static String medianRow(String side, String model, List<Round> rounds) {
        return String.format(
                Locale.ROOT,
                "| median | %s | %s | %d | | | %.2f | %,.0f | %,.0f | |",
                side,
                model,
                rounds.get(0).documents(),
                median(rounds, Round::seconds),
                median(rounds, Round::charsPerSecond),
                median(rounds, r -> r.tokensEmbedded() / r.seconds()));
    }

    private static double median(List<Round> rounds, java.util.function.ToDoubleFunction<Round> value) {
        return median(rounds.stream().mapToDouble(value).toArray());
    }

    static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
