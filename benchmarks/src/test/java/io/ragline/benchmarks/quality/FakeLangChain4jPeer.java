package io.ragline.benchmarks.quality;

import io.ragline.benchmarks.corpus.Corpus;
import io.ragline.benchmarks.corpus.CorpusDocument;
import io.ragline.benchmarks.corpus.KnownItemQuery;
import io.ragline.benchmarks.corpus.Queries;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for the LangChain4j peer's command line only, to test {@link PeerProcess} (launch,
 * database URL, output parsing), not the peer: {@code ingest} stores the corpus's ids in table
 * {@code --table} of {@code DATABASE_URL}; {@code search} answers each query with the ids stored
 * under its expected id, so a ranking holds the right document only if the ingest reached the
 * database. A query starting with {@code "skip"} is not answered.
 */
public final class FakeLangChain4jPeer {
    private FakeLangChain4jPeer() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            o.put(args[i], args[i + 1]);
        }
        String table = o.get("--table");
        try (Connection c = DriverManager.getConnection(System.getenv("DATABASE_URL"))) {
            if (args[0].equals("ingest")) {
                List<CorpusDocument> docs = Corpus.read(Path.of(o.get("--corpus")));
                c.createStatement().execute("drop table if exists " + table);
                c.createStatement().execute("create table " + table + " (id text)");
                long chars = 0;
                try (PreparedStatement s = c.prepareStatement("insert into " + table + " values (?)")) {
                    for (CorpusDocument d : docs) {
                        s.setString(1, d.id());
                        s.executeUpdate();
                        chars += d.text().length();
                    }
                }
                System.out.println("a log line the adapter skips");
                System.out.printf(
                        "{\"documents\":%d,\"segments\":%d,\"chars\":%d,\"seconds\":0.25}%n",
                        docs.size(), 2 * docs.size(), chars);
            } else {
                try (PreparedStatement s = c.prepareStatement("select id from " + table + " where id = ?")) {
                    for (KnownItemQuery q : Queries.read(Path.of(o.get("--queries")))) {
                        if (q.query().startsWith("skip")) {
                            continue;
                        }
                        s.setString(1, q.id());
                        StringBuilder ids = new StringBuilder();
                        try (ResultSet rs = s.executeQuery()) {
                            while (rs.next()) {
                                ids.append(ids.length() == 0 ? "" : ",")
                                        .append('"')
                                        .append(rs.getString(1))
                                        .append('"');
                            }
                        }
                        System.out.println("{\"query\":\"" + q.query() + "\",\"ids\":[" + ids + "]}");
                    }
                }
            }
        }
    }
}
