package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code ragline publish} as a real process when Kafka is down, input is bad or the collection unknown. */
class PublishCommandIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @TempDir
    Path dir;

    @BeforeAll
    static void migrate() throws Exception {
        db.execute("insert into collections (name) values ('alpha') on conflict (name) do nothing");
    }

    @Test
    void publishWithKafkaDownStopsAtTheFirstFailedSendAndSaysWhichFile() throws Exception {
        Path docs = Files.createDirectory(dir.resolve("docs"));
        for (int i = 0; i < 30; i++) {
            Files.writeString(docs.resolve(String.format("doc-%02d.txt", i)), "document number " + i);
        }
        Map<String, String> env = Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + closedPort(),
                // The database cannot be reached either: publish warns and goes on.
                "DATABASE_URL", "postgresql://ragline:secret@127.0.0.1:" + closedPort() + "/ragline");

        long started = System.nanoTime();
        JavaProcess publish = CliProcess.start(env, "publish", docs.toString());
        int exit = publish.waitFor(120);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(exit).as(publish.stderr()).isEqualTo(1);
        assertThat(took).isLessThan(Duration.ofSeconds(60)); // not 10 s (max.block.ms) for each of the 30 files
        assertThat(publish.stderr())
                .contains("warning: cannot check that collection(s) [default] exist")
                .contains("did not take " + docs.resolve("doc-00.txt"))
                .contains("0 of 30 files acknowledged before it, nothing after it was sent")
                .doesNotContain("secret");
    }

    @Test
    void badJsonLinesAreAllReportedAndNothingIsSent() throws Exception {
        Files.writeString(dir.resolve("a.txt"), "a text file published before the bad JSONL file");
        Path jsonl = dir.resolve("b.jsonl");
        Files.writeString(
                jsonl,
                "{\"id\":\"ok\",\"content\":\"fine\"}\n{\"id\": oops}\n\n[1, 2]\n{\"id\":\"x\",\"collection\":7}\n");
        // Kafka down: any send would make publish fail with exit 1 after the producer's timeout.
        JavaProcess publish = CliProcess.start(
                Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + closedPort()),
                "publish",
                dir.resolve("a.txt").toString(),
                jsonl.toString());

        assertThat(publish.waitFor(60)).as(publish.stderr()).isEqualTo(2);
        assertThat(publish.stderr())
                .contains(jsonl + ":2: not JSON (column")
                .contains(jsonl + ":4: each line must be a JSON object with a string id")
                .contains(jsonl + ":5: collection must be a string")
                .contains("nothing was sent")
                .doesNotContain(jsonl + ":1:")
                .doesNotContain("Exception")
                .doesNotContain("\tat ");
    }

    @Test
    void publishToAnUnknownCollectionFailsListingTheKnownOnes() throws Exception {
        Path jsonl = dir.resolve("c.jsonl");
        Files.writeString(jsonl, "{\"id\":\"one\",\"content\":\"x\"}\n{\"id\":\"two\",\"collection\":\"alpha\"}\n");
        Map<String, String> env = new HashMap<>(db.env());
        env.put("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + closedPort());

        JavaProcess publish = CliProcess.start(env, "publish", jsonl.toString(), "--collection", "nosuch");

        assertThat(publish.waitFor(60)).as(publish.stderr()).isEqualTo(2);
        assertThat(publish.stderr())
                .contains("no collection named nosuch")
                .contains("alpha")
                .contains("nothing was sent");
    }

    @Test
    void publishToAKnownCollectionSendsEveryDocument() throws Exception {
        Path jsonl = dir.resolve("d.jsonl");
        Files.writeString(jsonl, "{\"id\":\"one\",\"content\":\"x\"}\n{\"id\":\"two\",\"op\":\"delete\"}\n");
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_TOPIC_PREFIX", "pub" + UUID.randomUUID().toString().substring(0, 8) + ".");

        JavaProcess publish = CliProcess.start(env, "publish", jsonl.toString(), "--collection", "alpha");

        assertThat(publish.waitFor(60)).as(publish.stderr()).isZero();
        assertThat(publish.stdout()).contains("published 2 documents");
        assertThat(publish.stderr()).doesNotContain("warning");
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
