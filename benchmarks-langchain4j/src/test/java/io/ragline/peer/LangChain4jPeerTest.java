package io.ragline.peer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

class LangChain4jPeerTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String environmentUrl, String... args) {
        return LangChain4jPeer.run(
                args,
                environmentUrl,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void noCommandExitsTwoWithTheUsage() {
        assertThat(run("postgresql://h/db")).isEqualTo(2);
        assertThat(err()).contains("no command").contains("usage: LangChain4jPeer ingest");
        assertThat(out.size()).isZero();
    }

    @Test
    void anUnknownCommandIsNamed() {
        assertThat(run("postgresql://h/db", "load")).isEqualTo(2);
        assertThat(err()).contains("unknown command 'load'");
    }

    @Test
    void anOptionOfTheOtherCommandIsRefused() {
        assertThat(run("postgresql://h/db", "ingest", "--queries", "q.jsonl")).isEqualTo(2);
        assertThat(err()).contains("unknown option '--queries' for ingest");
    }

    @Test
    void anOptionWithoutItsValueIsRefused() {
        assertThat(run("postgresql://h/db", "search", "--table")).isEqualTo(2);
        assertThat(err()).contains("--table needs a value");
    }

    @Test
    void aMissingRequiredOptionIsNamed() {
        assertThat(run("postgresql://h/db", "ingest", "--table", "t", "--model", "all-minilm-l6-v2"))
                .isEqualTo(2);
        assertThat(err()).contains("--corpus is required");
    }

    @Test
    void anUnknownModelListsTheModels() {
        assertThat(run("postgresql://h/db", "search", "--table", "t", "--model", "bge", "--queries", "q"))
                .isEqualTo(2);
        assertThat(err()).contains("--model must be one of all-minilm-l6-v2|all-minilm-l6-v2-q, not 'bge'");
    }

    @Test
    void aTableNameThatIsNotAPlainIdentifierIsRefused() {
        assertThat(run("postgresql://h/db", "search", "--table", "t; drop table x", "--model", "all-minilm-l6-v2"))
                .isEqualTo(2);
        assertThat(err()).contains("--table must be a lower-case identifier");
    }

    @Test
    void kMustBePositive() {
        assertThat(run(
                        "postgresql://h/db",
                        "search",
                        "--table",
                        "t",
                        "--model",
                        "all-minilm-l6-v2",
                        "--queries",
                        "q",
                        "--k",
                        "0"))
                .isEqualTo(2);
        assertThat(err()).contains("--k must be a positive whole number, not '0'");
    }

    @Test
    void withoutADatabaseItSaysWhereToGiveOne() {
        assertThat(run(null, "search", "--table", "t", "--model", "all-minilm-l6-v2", "--queries", "q"))
                .isEqualTo(2);
        assertThat(err()).contains("set DATABASE_URL or give --database-url");
    }

    @Test
    void aMissingCorpusFileIsNamedWithoutTouchingTheDatabase() {
        assertThat(run(
                        "postgresql://u:secret@127.0.0.1:1/db",
                        "ingest",
                        "--table",
                        "t",
                        "--model",
                        "all-minilm-l6-v2",
                        "--corpus",
                        "/nonexistent/corpus.jsonl"))
                .isEqualTo(2);
        assertThat(err()).contains("no such file: /nonexistent/corpus.jsonl").doesNotContain("secret");
    }

    @Test
    void raglineDatabaseUrlBecomesJdbcWithItsUserAndDecodedPassword() {
        PGSimpleDataSource ds = (PGSimpleDataSource) PeerDatabase.dataSource(
                "postgresql://ragline:p%40ss+word@127.0.0.1:5433/ragline?sslmode=disable", "bench_x");
        assertThat(ds.getServerNames()).containsExactly("127.0.0.1");
        assertThat(ds.getPortNumbers()).containsExactly(5433);
        assertThat(ds.getDatabaseName()).isEqualTo("ragline");
        assertThat(ds.getSslMode()).isEqualTo("disable");
        assertThat(ds.getUser()).isEqualTo("ragline");
        assertThat(ds.getPassword()).isEqualTo("p@ss+word");
        assertThat(ds.getOptions()).isEqualTo("-c search_path=bench_x,public");
    }

    @Test
    void aJdbcUrlIsTakenAsItIsWithTheSessionSettings() {
        PGSimpleDataSource ds = (PGSimpleDataSource) PeerDatabase.dataSource(
                "jdbc:postgresql://127.0.0.1:5433/ragline?user=u&password=p", null, "hnsw.ef_search=400");
        assertThat(ds.getUser()).isEqualTo("u");
        assertThat(ds.getOptions()).isEqualTo("-c hnsw.ef_search=400");
    }

    @Test
    void anotherUrlSchemeIsRefusedWithoutQuotingTheUrl() {
        assertThat(run(
                        "mysql://u:secret@h/db",
                        "search",
                        "--table",
                        "t",
                        "--model",
                        "all-minilm-l6-v2",
                        "--queries",
                        "q"))
                .isEqualTo(2);
        assertThat(err()).contains("must start with postgresql://").doesNotContain("secret");
    }
}
