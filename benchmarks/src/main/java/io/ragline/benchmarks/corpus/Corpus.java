package io.ragline.benchmarks.corpus;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A benchmark corpus as JSONL, one {@code {"id": "...", "title": "...", "text": "..."}} a line: the
 * file every side of a comparison (Ragline, the LangChain4j peer) reads.
 */
public final class Corpus {
    private Corpus() {}

    public static List<CorpusDocument> read(Path jsonl) throws IOException {
        return JsonLines.read(jsonl, CorpusDocument.class);
    }

    public static void write(Path jsonl, List<CorpusDocument> documents) throws IOException {
        JsonLines.write(jsonl, documents);
    }
}
