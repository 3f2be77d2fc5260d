package io.ragline.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The benchmarks' JSON Lines files as the peer reads them: corpus lines
 * {@code {"id","title","text"}} and query lines {@code {"query","id"}}. The format's home is
 * {@code io.ragline.benchmarks.corpus}; the peer reads it itself because it depends on no Ragline
 * module.
 */
final class PeerFiles {
    static final ObjectMapper JSON = new ObjectMapper();

    record Doc(String id, String title, String text) {}

    record Query(String query, String id) {}

    private PeerFiles() {}

    static List<Doc> corpus(Path file) throws IOException {
        List<Doc> out = new ArrayList<>();
        for (JsonNode n : lines(file)) {
            out.add(new Doc(field(file, n, "id"), field(file, n, "title"), field(file, n, "text")));
        }
        return out;
    }

    static List<Query> queries(Path file) throws IOException {
        List<Query> out = new ArrayList<>();
        for (JsonNode n : lines(file)) {
            out.add(new Query(field(file, n, "query"), n.path("id").asText(null)));
        }
        return out;
    }

    private static List<JsonNode> lines(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new PeerUsageException("no such file: " + file);
        }
        List<JsonNode> out = new ArrayList<>();
        int number = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            number++;
            if (!line.isBlank()) {
                try {
                    out.add(JSON.readTree(line));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IOException(file + " line " + number + " is not JSON: " + e.getOriginalMessage(), e);
                }
            }
        }
        return out;
    }

    private static String field(Path file, JsonNode line, String name) throws IOException {
        JsonNode v = line.get(name);
        if (v == null || !v.isTextual()) {
            throw new IOException(file + ": a line has no text field '" + name + "'");
        }
        return v.asText();
    }
}
