package io.ragline.benchmarks.corpus;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** JSON Lines of records: one object per line, UTF-8; the one format of corpus and query files. */
final class Jsonl {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Jsonl() {}

    static <T> List<T> read(Path file, Class<T> type) throws IOException {
        try (MappingIterator<T> lines = JSON.readerFor(type).readValues(file.toFile())) {
            return lines.readAll();
        } catch (IOException | RuntimeException e) {
            throw new IOException(
                    "cannot read " + type.getSimpleName() + " lines from " + file + ": " + e.getMessage(), e);
        }
    }

    static void write(Path file, List<?> records) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Object r : records) {
                out.write(JSON.writeValueAsString(r));
                out.write('\n');
            }
        }
    }
}
