package io.ragline.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.benchmarks.IngestComparisonBenchmark.Model;
import io.ragline.benchmarks.IngestComparisonBenchmark.Options;
import io.ragline.benchmarks.IngestComparisonBenchmark.Result;
import io.ragline.benchmarks.corpus.Corpus;
import io.ragline.benchmarks.corpus.CorpusDocument;
import io.ragline.benchmarks.corpus.KnownItemQuery;
import io.ragline.benchmarks.corpus.Queries;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.TestServices;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The side-by-side benchmark's short form on real services: one round of a five-document corpus
 * (the start of five licences, so no {@code man} is needed), the peer in its own JVM from
 * benchmarks-langchain4j/target. It checks that both sides stored every document, not how fast.
 */
class IngestComparisonBenchmarkIT {
    private static final List<String> LICENCES = List.of("Apache-2.0", "BSD", "GPL-2", "GPL-3", "MPL-2.0");

    @TempDir
    Path dir;

    private static List<CorpusDocument> licences() throws Exception {
        List<CorpusDocument> docs = new ArrayList<>();
        for (String name : LICENCES) {
            String text = Files.readString(Path.of("/usr/share/common-licenses", name));
            docs.add(new CorpusDocument(name, name + " licence", text.substring(0, Math.min(3000, text.length()))));
        }
        return docs;
    }

    @Test
    void bothSidesMakeEveryDocumentOfTheCorpusSearchable() throws Exception {
        List<CorpusDocument> docs = licences();
        Path corpus = dir.resolve("licences.jsonl");
        Corpus.write(corpus, docs);
        ByteArrayOutputStream printed = new ByteArrayOutputStream();

        Result result = IngestComparisonBenchmark.run(
                new Options(1, corpus.toString(), Model.FP32), new PrintStream(printed, true, StandardCharsets.UTF_8));

        assertThat(result.corpus()).isEqualTo(docs);
        assertThat(result.peer()).singleElement().satisfies(r -> {
            assertThat(r.documents()).isEqualTo(5);
            assertThat(r.storedDocuments()).isEqualTo(5);
            assertThat(r.pieces()).isGreaterThanOrEqualTo(5 * 3); // 3,000 characters, segments of at most 1,000
            assertThat(r.tokensEmbedded())
                    .isPositive()
                    .isLessThan(r.tokensTotal())
                    .isLessThanOrEqualTo(126 * r.pieces());
            assertThat(r.seconds()).isPositive();
        });
        assertThat(result.ragline()).singleElement().satisfies(r -> {
            assertThat(r.documents()).isEqualTo(5);
            assertThat(r.storedDocuments()).isEqualTo(5);
            assertThat(r.pieces()).isGreaterThanOrEqualTo(5);
            assertThat(r.tokensEmbedded()).isPositive().isEqualTo(r.tokensTotal());
            assertThat(r.seconds()).isPositive();
        });
        String out = printed.toString(StandardCharsets.UTF_8);
        assertThat(out)
                .contains(String.format(Locale.ROOT, "5 documents, %,d characters", Corpus.chars(docs)))
                .contains("| 1 | LangChain4j EmbeddingStoreIngestor | all-minilm-l6-v2 | 5 |")
                .contains("| 1 | Ragline pipeline (defaults) | all-MiniLM-L6-v2 | 5 |")
                .contains("Ragline / LangChain4j, corpus chars/s: **");
    }

    /** The peer's {@code search}, as the retrieval-quality benchmark uses it: distinct documents in rank order. */
    @Test
    void thePeerRanksEachDocumentOnceAndFindsTheOneAQueryNames() throws Exception {
        Path corpus = dir.resolve("licences.jsonl");
        Corpus.write(corpus, licences());
        Path queries = dir.resolve("queries.jsonl");
        Queries.write(
                queries,
                List.of(
                        new KnownItemQuery("Apache License, Version 2.0", "Apache-2.0"),
                        new KnownItemQuery("Mozilla Public License Version 2.0", "MPL-2.0")));
        String schema = "peer_it_" + Long.toString(System.nanoTime(), 36);
        PeerProcess peer = PeerProcess.locate(TestServices.get().databaseUrl());
        DatabaseUrl url =
                DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
        try {
            peer.run(List.of(
                    "ingest",
                    "--corpus",
                    corpus.toString(),
                    "--table",
                    "licences",
                    "--model",
                    "all-minilm-l6-v2",
                    "--schema",
                    schema));

            List<JsonNode> rankings = peer.run(List.of(
                    "search",
                    "--queries",
                    queries.toString(),
                    "--table",
                    "licences",
                    "--model",
                    "all-minilm-l6-v2",
                    "--k",
                    "10",
                    "--schema",
                    schema));

            assertThat(rankings).hasSize(2);
            assertThat(rankings).allSatisfy(line -> {
                List<String> ids = new ArrayList<>();
                line.get("ids").forEach(id -> ids.add(id.asText()));
                // k = 10 but 5 documents: each once, although each has several segments
                assertThat(ids).containsExactlyInAnyOrderElementsOf(LICENCES);
            });
            assertThat(rankings.get(0).get("query").asText()).isEqualTo("Apache License, Version 2.0");
            assertThat(rankings.get(0).get("ids").get(0).asText()).isEqualTo("Apache-2.0");
            assertThat(rankings.get(1).get("ids").get(0).asText()).isEqualTo("MPL-2.0");
        } finally {
            BenchmarkDatabase.execute(url, "drop schema if exists " + schema + " cascade");
        }
    }
}
