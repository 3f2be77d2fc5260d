package io.ragline.benchmarks.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.benchmarks.corpus.Corpus;
import io.ragline.benchmarks.corpus.CorpusDocument;
import io.ragline.benchmarks.corpus.KnownItemQuery;
import io.ragline.benchmarks.corpus.Queries;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.TestServices;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PeerProcess} against a stand-in of the peer's command line ({@link FakeLangChain4jPeer}) on
 * the real Postgres: the peer's JVM reaches the database with the URL the adapter builds, and its
 * output comes back as counts and rankings. (The real peer is another module's; this tests only
 * the adapter.)
 */
class PeerProcessIT {
    private static final DatabaseUrl URL =
            DatabaseUrl.parse(TestServices.get().databaseUrl()).url().orElseThrow();
    private static final String TABLE =
            "peer_process_it_" + ProcessHandle.current().pid();

    @TempDir
    Path dir;

    private final PeerProcess peer =
            new PeerProcess(System.getProperty("java.class.path"), FakeLangChain4jPeer.class.getName(), URL);

    @AfterEach
    void dropTable() throws Exception {
        Properties p = new Properties();
        p.setProperty("user", URL.user());
        p.setProperty("password", URL.password().reveal());
        try (Connection c = DriverManager.getConnection(URL.jdbcUrl(), p)) {
            c.createStatement().execute("drop table if exists " + TABLE);
        }
    }

    @Test
    void thePeersCountsAndRankingsComeBackThroughItsCommandLine() throws Exception {
        Path corpus = dir.resolve("corpus.jsonl");
        Path queries = dir.resolve("queries.jsonl");
        Corpus.write(corpus, List.of(new CorpusDocument("a", "a", "alpha"), new CorpusDocument("b", "b", "beta")));
        Queries.write(queries, List.of(new KnownItemQuery("first", "a"), new KnownItemQuery("missing", "z")));

        PeerProcess.Ingested ingested = peer.ingest(corpus, TABLE, "all-minilm-l6-v2");
        List<List<String>> rankings = peer.search(queries, TABLE, "all-minilm-l6-v2", Retrieval.K);

        assertThat(ingested).isEqualTo(new PeerProcess.Ingested(2, 4, 9, 0.25));
        assertThat(rankings).containsExactly(List.of("a"), List.of());
    }

    @Test
    void aPeerThatAnswersOtherQueriesOrFailsIsAnError() throws Exception {
        Path corpus = dir.resolve("corpus.jsonl");
        Corpus.write(corpus, List.of(new CorpusDocument("a", "a", "alpha")));
        peer.ingest(corpus, TABLE, "all-minilm-l6-v2");
        Path lastMissing = dir.resolve("last-missing.jsonl");
        Queries.write(lastMissing, List.of(new KnownItemQuery("first", "a"), new KnownItemQuery("skip me", "a")));
        Path firstMissing = dir.resolve("first-missing.jsonl");
        Queries.write(firstMissing, List.of(new KnownItemQuery("skip me", "a"), new KnownItemQuery("second", "a")));

        assertThatThrownBy(() -> peer.search(lastMissing, TABLE, "all-minilm-l6-v2", Retrieval.K))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("answered 1 of 2 queries");
        assertThatThrownBy(() -> peer.search(firstMissing, TABLE, "all-minilm-l6-v2", Retrieval.K))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("answer 1 is not to query 1");
        assertThatThrownBy(() -> peer.search(lastMissing, "no_such_table_here", "m", Retrieval.K))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("search exited 1");
    }
}
