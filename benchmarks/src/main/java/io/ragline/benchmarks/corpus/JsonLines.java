package io.ragline.benchmarks.corpus;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One JSON object a line (UTF-8), read into and written from records; blank lines are skipped. */
final class JsonLines {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonLines() {}

    static <T> List<T> read(Path file, Class<T> type) throws IOException {
        List<T> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int n = 0;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    out.add(JSON.readValue(line, type));
                } catch (JsonProcessingException e) {
                    throw new IOException(file + " line " + n + ": " + e.getOriginalMessage(), e);
                }
            }
        }
        return out;
    }

    static void write(Path file, List<?> values) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Object v : values) {
                out.write(JSON.writeValueAsString(v)); // escapes every newline: one object, one line
                out.write('\n');
            }
        }
    }
}
