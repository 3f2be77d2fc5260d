package io.ragline.peer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.document.DocumentSplitter;
import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.document.splitter.DocumentSplitters;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.HuggingFaceTokenCountEstimator;
import dev.langchain4j.model.output.TokenUsage;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.IngestionResult;
import dev.langchain4j.store.embedding.pgvector.PgVectorEmbeddingStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.sql.DataSource;

/**
 * {@code ingest}: what a Java user would write instead of Ragline. LangChain4j's
 * {@link EmbeddingStoreIngestor} with the recursive splitter (1,000 characters, 100 overlap), the
 * document's title in front of each segment, the in-process MiniLM and a
 * {@link PgVectorEmbeddingStore} in a table of its own, dropped and created first. Only the
 * {@code ingest(...)} call is timed, after a warm-up ingest into a throwaway table.
 */
final class PeerIngest {
    static final int SEGMENT_CHARS = 1000;
    static final int SEGMENT_OVERLAP_CHARS = 100;

    /**
     * The vector index of the peer's table. {@code hnsw} (the default): pgvector's HNSW, cosine,
     * {@code m = 16, ef_construction = 64}, made before the ingest as Ragline makes one per
     * collection, so both sides pay for the same index. {@code ivfflat}: what
     * {@code PgVectorEmbeddingStore}'s own {@code useIndex(true)} makes (IVFFlat, cosine,
     * {@code lists = 100}, built on the empty table).
     */
    enum Index {
        HNSW,
        IVFFLAT,
        NONE;

        static Index parse(String value) {
            try {
                return valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new PeerUsageException("--index must be hnsw, ivfflat or none, not '" + value + "'");
            }
        }
    }

    static final int IVFFLAT_LISTS = 100;

    private PeerIngest() {}

    /** Runs the command and returns its one JSON line. */
    static ObjectNode run(DataSource ds, PeerModel modelName, Path corpusFile, String table, Path warmup, Index index)
            throws Exception {
        List<PeerFiles.Doc> corpus = PeerFiles.corpus(corpusFile);
        if (corpus.isEmpty()) {
            throw new PeerUsageException("the corpus " + corpusFile + " has no documents");
        }
        EmbeddingModel model = modelName.load();
        if (warmup != null) {
            String throwaway = table + "_warmup";
            ingestor(model, store(ds, throwaway, index)).ingest(documents(PeerFiles.corpus(warmup)));
            PeerDatabase.execute(ds, "drop table " + throwaway);
        }
        EmbeddingStoreIngestor ingestor = ingestor(model, store(ds, table, index));
        List<Document> documents = documents(corpus);

        long start = System.nanoTime();
        IngestionResult result = ingestor.ingest(documents);
        double seconds = (System.nanoTime() - start) / 1e9;

        ObjectNode line = PeerFiles.JSON.createObjectNode();
        line.put("documents", corpus.size());
        long segments = rows(ds, table);
        line.put("segments", segments);
        line.put(
                "chars",
                corpus.stream()
                        .mapToLong(d -> d.text().codePointCount(0, d.text().length()))
                        .sum());
        line.put("seconds", seconds);
        TokenUsage usage = result.tokenUsage();
        if (usage != null && usage.inputTokenCount() != null) {
            // the model's own count: the tokens it ran, at most 126 a segment ([CLS] and [SEP] not counted)
            line.put("tokens_embedded", usage.inputTokenCount());
            line.put("tokens_total", tokensIfWhole(documents));
        }
        return line;
    }

    private static EmbeddingStoreIngestor ingestor(EmbeddingModel model, PgVectorEmbeddingStore store) {
        return EmbeddingStoreIngestor.builder()
                .documentSplitter(splitter())
                .textSegmentTransformer(PeerIngest::titled)
                .embeddingModel(model)
                .embeddingStore(store)
                .build();
    }

    private static DocumentSplitter splitter() {
        return DocumentSplitters.recursive(SEGMENT_CHARS, SEGMENT_OVERLAP_CHARS);
    }

    /** The title in front of the segment, as Ragline's default template {@code {title}\n{chunk}} does. */
    private static TextSegment titled(TextSegment segment) {
        return TextSegment.from(segment.metadata().getString("title") + "\n" + segment.text(), segment.metadata());
    }

    private static List<Document> documents(List<PeerFiles.Doc> corpus) {
        return corpus.stream()
                .map(d -> Document.from(d.text(), Metadata.from(Map.of("id", d.id(), "title", d.title()))))
                .toList();
    }

    /** Drops and creates {@code table}, with its index, before anything is stored. */
    private static PgVectorEmbeddingStore store(DataSource ds, String table, Index index) throws SQLException {
        PgVectorEmbeddingStore store = PgVectorEmbeddingStore.datasourceBuilder()
                .datasource(ds)
                .table(table)
                .dimension(PeerModel.DIMENSIONS)
                .dropTableFirst(true)
                .createTable(true)
                .useIndex(index == Index.IVFFLAT)
                .indexListSize(IVFFLAT_LISTS)
                .build();
        if (index == Index.HNSW) {
            PeerDatabase.execute(
                    ds, "create index " + table + "_hnsw on " + table + " using hnsw (embedding vector_cosine_ops)");
        }
        return store;
    }

    /** The segments' tokens (title included, special tokens not) had the model not cut them at 128. */
    private static long tokensIfWhole(List<Document> documents) {
        HuggingFaceTokenCountEstimator tokenizer = new HuggingFaceTokenCountEstimator();
        return splitter().splitAll(documents).stream()
                .map(PeerIngest::titled)
                .mapToLong(s -> tokenizer.estimateTokenCountInText(s.text()))
                .sum();
    }

    private static long rows(DataSource ds, String table) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select count(*) from " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
