package io.ragline.benchmarks.corpus;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Corpus files: JSON Lines, one {@code {"id": "...", "title": "...", "text": "..."}} per line.
 * The benchmarks write them once and hand the same file to Ragline's side and to the peer.
 */
public final class Corpus {
    private Corpus() {}

    public static List<CorpusDocument> read(Path jsonl) throws IOException {
        return Jsonl.read(jsonl, CorpusDocument.class);
    }

    public static void write(Path jsonl, List<CorpusDocument> documents) throws IOException {
        Jsonl.write(jsonl, documents);
    }

    /** The characters (code points) of every document's text: the corpus size both sides report. */
    public static long chars(List<CorpusDocument> documents) {
        return documents.stream().mapToLong(CorpusDocument::chars).sum();
    }
}
