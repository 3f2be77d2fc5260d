package io.ragline.benchmarks.quality;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.benchmarks.corpus.KnownItemQuery;
import io.ragline.benchmarks.corpus.Queries;
import io.ragline.core.config.DatabaseUrl;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The LangChain4j peer ({@code io.ragline.peer.LangChain4jPeer}, module {@code
 * benchmarks-langchain4j}) in a JVM of its own, launched with its classpath ({@code
 * benchmarks-langchain4j/target/classes:benchmarks-langchain4j/target/peer-lib/*}), through its
 * command line: {@code ingest} prints one JSON line of counts and seconds, {@code search} one JSON
 * line per query with the distinct document ids it found, best first. Its database is the
 * benchmark's, given as {@code DATABASE_URL} in JDBC form with the user and password as
 * parameters (the peer's only way to take them; the URL is never printed).
 */
public final class PeerProcess {
    /** The peer's main class. */
    public static final String MAIN = "io.ragline.peer.LangChain4jPeer";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String classpath;
    private final String main;
    private final String jdbcUrl;

    /** The peer launched with {@code classpath}, on {@code database}. */
    public PeerProcess(String classpath, DatabaseUrl database) {
        this(classpath, MAIN, database);
    }

    /** As {@link #PeerProcess(String, DatabaseUrl)} with another main class of the same command line. */
    PeerProcess(String classpath, String main, DatabaseUrl database) {
        this.classpath = classpath;
        this.main = main;
        String url = database.jdbcUrl();
        this.jdbcUrl = url + (url.contains("?") ? "&" : "?") + "user=" + encode(database.user()) + "&password="
                + encode(database.password().reveal());
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** What {@code ingest} reported: its counts, and the seconds of the ingest call alone. */
    public record Ingested(long documents, long segments, long chars, double seconds) {}

    /** Ingests {@code corpus} into table {@code table} (dropped and created by the peer) with {@code model}. */
    public Ingested ingest(Path corpus, String table, String model) throws IOException, InterruptedException {
        List<String> out = run(List.of("ingest", "--corpus", corpus.toString(), "--table", table, "--model", model));
        JsonNode n = lastObject(out);
        return new Ingested(
                n.path("documents").asLong(),
                n.path("segments").asLong(),
                n.path("chars").asLong(),
                n.path("seconds").asDouble());
    }

    /**
     * The peer's ranking of each query of {@code queries} (in the file's order), at most {@code k}
     * distinct document ids each.
     *
     * @throws IOException if it answered other queries than the file's, in another order
     */
    public List<List<String>> search(Path queries, String table, String model, int k)
            throws IOException, InterruptedException {
        List<KnownItemQuery> asked = Queries.read(queries);
        List<String> out = run(List.of(
                "search",
                "--table",
                table,
                "--queries",
                queries.toString(),
                "--model",
                model,
                "--k",
                Integer.toString(k)));
        List<List<String>> rankings = new ArrayList<>();
        for (String line : out) {
            if (!line.startsWith("{")) {
                continue;
            }
            JsonNode answer = JSON.readTree(line);
            int i = rankings.size();
            if (i >= asked.size()
                    || !asked.get(i).query().equals(answer.path("query").asText())) {
                throw new IOException(
                        "the peer's answer " + (i + 1) + " is not to query " + (i + 1) + " of " + queries);
            }
            List<String> ids = new ArrayList<>();
            answer.path("ids").forEach(id -> ids.add(id.asText()));
            rankings.add(ids);
        }
        if (rankings.size() != asked.size()) {
            throw new IOException("the peer answered " + rankings.size() + " of " + asked.size() + " queries");
        }
        return rankings;
    }

    private static JsonNode lastObject(List<String> lines) throws IOException {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith("{")) {
                return JSON.readTree(lines.get(i));
            }
        }
        throw new IOException("the peer printed no JSON line");
    }

    /** Runs the peer with {@code args}; its standard output's lines. Its standard error passes through. */
    private List<String> run(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", classpath, main));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("DATABASE_URL", jdbcUrl);
        Process p = pb.start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                lines.add(line.strip());
            }
        }
        int exit = p.waitFor();
        if (exit != 0) {
            throw new IOException("the peer's " + args.get(0) + " exited " + exit);
        }
        return lines;
    }
}
