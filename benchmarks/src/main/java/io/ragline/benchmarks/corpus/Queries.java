package io.ragline.benchmarks.corpus;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Query files: JSON Lines, one {@code {"query": "...", "id": "<the expected document id>"}} per line. */
public final class Queries {
    private Queries() {}

    public static List<KnownItemQuery> read(Path jsonl) throws IOException {
        return Jsonl.read(jsonl, KnownItemQuery.class);
    }

    public static void write(Path jsonl, List<KnownItemQuery> queries) throws IOException {
        Jsonl.write(jsonl, queries);
    }
}
