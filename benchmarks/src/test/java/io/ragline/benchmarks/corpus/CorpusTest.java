package io.ragline.benchmarks.corpus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTest {
    @TempDir
    Path dir;

    @Test
    void aCorpusReadsBackAsItWasWrittenOneDocumentALine() throws IOException {
        List<CorpusDocument> docs = List.of(
                new CorpusDocument("ls", "ls", "LS(1)\n\nNAME\n       ls - list directory contents\n"),
                new CorpusDocument("naïve", "Ünïcode \"quoted\"", "tabs\tand\r\nnewlines, emoji 😀"));
        Path file = dir.resolve("sub/corpus.jsonl");

        Corpus.write(file, docs);

        assertThat(Files.readAllLines(file)).hasSize(2).allMatch(l -> l.startsWith("{\"id\":"));
        assertThat(Corpus.read(file)).isEqualTo(docs);
    }

    @Test
    void charsCountsCodePointsAsWcDoes() {
        assertThat(Corpus.chars(List.of(new CorpusDocument("a", "a", "😀ab"), new CorpusDocument("b", "b", "é"))))
                .isEqualTo(4);
    }

    @Test
    void queriesReadBackAsTheyWereWritten() throws IOException {
        List<KnownItemQuery> queries =
                List.of(new KnownItemQuery("list directory contents", "ls"), new KnownItemQuery("copy files", "cp"));
        Path file = dir.resolve("queries.jsonl");

        Queries.write(file, queries);

        assertThat(Files.readString(file)).startsWith("{\"query\":\"list directory contents\",\"id\":\"ls\"}\n");
        assertThat(Queries.read(file)).isEqualTo(queries);
    }

    @Test
    void aLineWithoutItsIdNamesTheFile() throws IOException {
        Path file = dir.resolve("bad.jsonl");
        Files.writeString(file, "{\"title\": \"t\", \"text\": \"x\"}\n");

        assertThatThrownBy(() -> Corpus.read(file))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("needs an id");
    }

    @Test
    void aQueryWithoutItsExpectedDocumentIsRefused() {
        assertThatThrownBy(() -> new KnownItemQuery("copy files", " "))
                .hasMessageContaining("'copy files' names no expected document id");
    }
}
