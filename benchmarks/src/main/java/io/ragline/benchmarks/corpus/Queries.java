package io.ragline.benchmarks.corpus;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Known-item queries as JSONL, one {@code {"query": "...", "id": "<the expected document id>"}} a line. */
public final class Queries {
    private Queries() {}

    public static List<KnownItemQuery> read(Path jsonl) throws IOException {
        return JsonLines.read(jsonl, KnownItemQuery.class);
    }

    public static void write(Path jsonl, List<KnownItemQuery> queries) throws IOException {
        JsonLines.write(jsonl, queries);
    }
}
