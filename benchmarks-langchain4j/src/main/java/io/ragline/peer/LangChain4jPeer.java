package io.ragline.peer;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The LangChain4j peer of the ingest comparison, run in its own JVM by
 * {@code io.ragline.benchmarks.IngestComparisonBenchmark}:
 *
 * <pre>
 * java -cp 'benchmarks-langchain4j/target/classes:benchmarks-langchain4j/target/peer-lib/*' io.ragline.peer.LangChain4jPeer
 *   ingest --corpus FILE.jsonl --table T --model all-minilm-l6-v2|all-minilm-l6-v2-q [--warmup-corpus F]
 *          [--index hnsw|ivfflat|none] [--schema S] [--database-url URL]
 *   search --table T --queries FILE.jsonl --model M [--k 10] [--schema S] [--database-url URL]
 * </pre>
 *
 * <p>{@code ingest} prints one JSON line
 * {@code {"documents":n,"segments":n,"chars":n,"seconds":s,"tokens_embedded":n,"tokens_total":n}};
 * {@code search} one {@code {"query":"...","ids":[...]}} per query. The database comes from
 * {@code DATABASE_URL} unless {@code --database-url} is given. Exit 0 on success, 2 for a wrong
 * command line (the message and the usage on stderr), 1 when the run fails.
 */
public final class LangChain4jPeer {
    static final String USAGE = "usage: LangChain4jPeer ingest --corpus FILE.jsonl --table T --model "
            + PeerModel.names() + " [--warmup-corpus F] [--index hnsw|ivfflat|none] [--schema S] [--database-url URL]\n"
            + "       LangChain4jPeer search --table T --queries FILE.jsonl --model " + PeerModel.names()
            + " [--k 10] [--schema S] [--database-url URL]";

    private static final Set<String> COMMON = Set.of("--table", "--model", "--schema", "--database-url");
    private static final Map<String, Set<String>> OPTIONS = Map.of(
            "ingest", union(COMMON, "--corpus", "--warmup-corpus", "--index"),
            "search", union(COMMON, "--queries", "--k"));

    private LangChain4jPeer() {}

    public static void main(String[] args) {
        System.exit(run(args, System.getenv("DATABASE_URL"), System.out, System.err));
    }

    static int run(String[] args, String environmentUrl, PrintStream out, PrintStream err) {
        try {
            if (args.length == 0 || !OPTIONS.containsKey(args[0])) {
                throw new PeerUsageException(
                        args.length == 0 ? "no command" : "unknown command '" + args[0] + "': ingest or search");
            }
            String command = args[0];
            Map<String, String> options = options(command, Arrays.copyOfRange(args, 1, args.length));
            String url = options.getOrDefault("--database-url", environmentUrl);
            if (url == null || url.isBlank()) {
                throw new PeerUsageException("no database: set DATABASE_URL or give --database-url");
            }
            String table = PeerDatabase.identifier("--table", required(options, "--table"));
            if (table.length() > 50) {
                throw new PeerUsageException("--table must be at most 50 characters, not " + table.length());
            }
            String schema = options.containsKey("--schema")
                    ? PeerDatabase.identifier("--schema", options.get("--schema"))
                    : null;
            PeerModel model = PeerModel.parse(required(options, "--model"));
            if (command.equals("ingest")) {
                PeerIngest.Index index = PeerIngest.Index.parse(options.getOrDefault("--index", "hnsw"));
                Path corpus = Path.of(required(options, "--corpus"));
                Path warmup = options.containsKey("--warmup-corpus") ? Path.of(options.get("--warmup-corpus")) : null;
                var ds = PeerDatabase.dataSource(url, schema);
                if (schema != null) {
                    PeerDatabase.execute(ds, "create schema if not exists " + schema);
                }
                out.println(PeerIngest.run(ds, model, corpus, table, warmup, index));
            } else {
                int k = positive("--k", options.getOrDefault("--k", "10"));
                Path queries = Path.of(required(options, "--queries"));
                var ds = PeerDatabase.dataSource(url, schema, "hnsw.ef_search=" + PeerSearch.MAX_SEGMENTS);
                PeerSearch.run(ds, model, table, queries, k, out);
            }
            out.flush();
            return 0;
        } catch (PeerUsageException e) {
            err.println("LangChain4jPeer: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (Exception e) {
            err.println("LangChain4jPeer: failed: " + e);
            return 1;
        }
    }

    private static Map<String, String> options(String command, String[] args) {
        Set<String> allowed = OPTIONS.get(command);
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            String name = args[i];
            if (!allowed.contains(name)) {
                throw new PeerUsageException("unknown option '" + name + "' for " + command);
            }
            if (i + 1 >= args.length) {
                throw new PeerUsageException(name + " needs a value");
            }
            if (out.put(name, args[i + 1]) != null) {
                throw new PeerUsageException(name + " is given twice");
            }
        }
        return out;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null || value.isBlank()) {
            throw new PeerUsageException(name + " is required");
        }
        return value;
    }

    private static int positive(String name, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new PeerUsageException(name + " must be a positive whole number, not '" + value + "'");
    }

    private static Set<String> union(Set<String> common, String... more) {
        Set<String> out = new java.util.HashSet<>(common);
        out.addAll(List.of(more));
        return Set.copyOf(out);
    }
}
