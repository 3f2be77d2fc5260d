package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's commands as real processes: {@code collections create|list|update|delete},
 * {@code publish} of a directory, and {@code search}, with the workers running in this JVM.
 */
class OperatorCommandsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @TempDir
    Path dir;

    @Test
    void anOperatorCreatesACollectionPublishesFilesAndJsonLinesAndFindsThemByMeaning() throws Exception {
        String prefix = "ops" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        // A collection's HNSW index is DDL: creating and deleting collections is the owner's action.
        Map<String, String> owner = new HashMap<>(env);
        owner.put("DATABASE_URL", db.ownerDatabaseUrl());
        try (WorkerRuntime runtime = AllWorkers.start(AllWorkers.env(env))) {
            JavaProcess bad = CliProcess.start(
                    owner, "collections", "create", "notes", "--model", "no-such-model", "--chunk-overlap", "300");
            assertThat(bad.waitFor(60)).isEqualTo(2);
            assertThat(bad.stderr()).contains("no-such-model").contains("--chunk-overlap");

            JavaProcess create = CliProcess.start(
                    owner, "collections", "create", "notes", "--model", "bge-small-en-v1.5-q", "--chunk-size", "128");
            assertThat(create.waitFor(60)).as(create.stderr()).isZero();
            assertThat(create.stdout()).contains("created collection notes");

            Path notes = Files.createDirectory(dir.resolve("notes"));
            Files.writeString(
                    notes.resolve("kitchen.txt"),
                    "The sourdough starter is fed with flour and water every"
                            + " morning, and the bread is baked in a cast iron pot.");
            Files.writeString(
                    notes.resolve("garage.txt"),
                    "The bicycle chain was cleaned and oiled, and the brake"
                            + " pads on the rear wheel were replaced.");
            Files.write(notes.resolve("image.bin"), new byte[] {1, 0, 2, 0, 3});
            JavaProcess publish = CliProcess.start(env, "publish", notes.toString(), "--collection", "notes");
            assertThat(publish.waitFor(60)).as(publish.stderr()).isZero();
            assertThat(publish.stdout()).contains("published 2 documents").contains("1 binary or empty files skipped");
            assertThat(publish.stderr()).contains("publishing [");

            await().atMost(Duration.ofMinutes(2))
                    .until(() -> (long) db.queryValue("select count(*) from documents where status = 'embedded'") == 2);
            assertThat(db.queryValue("select external_id from documents order by external_id limit 1"))
                    .isEqualTo("notes/garage.txt");

            JavaProcess search =
                    CliProcess.start(env, "search", "how to make bread at home", "--collection", "notes", "-k", "1");
            assertThat(search.waitFor(120)).as(search.stderr()).isZero();
            assertThat(search.stdout()).contains("notes/kitchen.txt").doesNotContain("garage");
            JavaProcess byWords = CliProcess.start(
                    env,
                    "search",
                    "sourdough",
                    "--collection",
                    "notes",
                    "--mode",
                    "text",
                    "--all-chunks",
                    "--context",
                    "1",
                    "--min-score",
                    "0",
                    "--filter",
                    "{\"$not\": {\"nope\": {\"$exists\": true}}}");
            assertThat(byWords.waitFor(120)).as(byWords.stderr()).isZero();
            assertThat(byWords.stdout())
                    .contains("notes/kitchen.txt")
                    .contains("chunk 0")
                    .doesNotContain("garage");
            JavaProcess badFilter = CliProcess.start(
                    env, "search", "bread", "--collection", "notes", "--filter", "{\"room\": {\"$near\": 1}}");
            assertThat(badFilter.waitFor(120)).isEqualTo(2);
            assertThat(badFilter.stderr()).contains("filter.room.$near: unknown operator");
            JavaProcess nulFilter = CliProcess.start(
                    env, "search", "bread", "--collection", "notes", "--filter", "{\"room\": \"\\u0000\"}");
            assertThat(nulFilter.waitFor(120)).as(nulFilter.stderr()).isEqualTo(2); // a 400 on HTTP, not a failure
            assertThat(nulFilter.stderr())
                    .contains("the database refused the filter")
                    .contains("22P05");

            JavaProcess list = CliProcess.start(env, "collections", "list");
            assertThat(list.waitFor(60)).as(list.stderr()).isZero();
            assertThat(list.stdout()).containsPattern("notes +onnx +bge-small-en-v1.5-q +384 +128 .*embedded 2");

            JavaProcess update = CliProcess.start(env, "collections", "update", "notes", "--chunk-size", "64");
            assertThat(update.waitFor(60)).as(update.stderr()).isZero();
            assertThat(db.queryValue("select chunk_size_tokens from collections where name = 'notes'"))
                    .isEqualTo(64);
            JavaProcess overlap = CliProcess.start(env, "collections", "update", "notes", "--chunk-overlap", "64");
            assertThat(overlap.waitFor(60)).isEqualTo(2);
            assertThat(overlap.stderr()).contains("overlap must stay below the chunk size");

            Path jsonl = dir.resolve("more.jsonl");
            Files.writeString(
                    jsonl,
                    "{\"id\":\"faq-1\",\"title\":\"FAQ\",\"content\":\"Tea is brewed with water"
                            + " just off the boil.\",\"version\":3}\n\n{\"id\":\"faq-2\",\"op\":\"delete\"}\n");
            JavaProcess lines = CliProcess.start(env, "publish", jsonl.toString(), "--collection", "notes");
            assertThat(lines.waitFor(60)).as(lines.stderr()).isZero();
            assertThat(lines.stdout()).contains("published 2 documents");
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> "embedded deleted"
                            .equals(db.queryValue("select string_agg(status, ' ' order by"
                                    + " external_id) from documents where external_id like 'faq-%'")));
            assertThat(db.queryValue("select version from documents where external_id = 'faq-1'"))
                    .isEqualTo(3L);

            // Paused: documents are stored and chunked, their embedding waits for the resume.
            JavaProcess wrongStatus = CliProcess.start(env, "collections", "update", "notes", "--status", "failed");
            assertThat(wrongStatus.waitFor(60)).isEqualTo(2);
            assertThat(wrongStatus.stderr()).contains("--status must be active or paused");
            JavaProcess pause = CliProcess.start(env, "collections", "update", "notes", "--status", "paused");
            assertThat(pause.waitFor(60)).as(pause.stderr()).isZero();
            Files.writeString(
                    jsonl, "{\"id\":\"faq-3\",\"content\":\"Coffee beans are ground just before brewing.\"}\n");
            JavaProcess paused = CliProcess.start(env, "publish", jsonl.toString(), "--collection", "notes");
            assertThat(paused.waitFor(60)).as(paused.stderr()).isZero();
            awaitPausedSkips(runtime, 1);
            assertThat(db.queryValue("select status from documents where external_id = 'faq-3'"))
                    .isEqualTo("chunked");
            // The same content again: a new version that keeps its chunks, and a new request for it
            // (the first one names a version that is no longer the document's).
            JavaProcess again = CliProcess.start(env, "publish", jsonl.toString(), "--collection", "notes");
            assertThat(again.waitFor(60)).as(again.stderr()).isZero();
            awaitPausedSkips(runtime, 2);
            assertThat(db.queryValue("select version from documents where external_id = 'faq-3'"))
                    .isEqualTo(2L);
            JavaProcess resume = CliProcess.start(env, "collections", "update", "notes", "--status", "active");
            assertThat(resume.waitFor(60)).as(resume.stderr()).isZero();
            assertThat(resume.stdout()).contains("asked again for the embeddings of 1 document(s)");
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> "embedded"
                            .equals(db.queryValue("select status from documents where external_id = 'faq-3'")));
            assertThat((long) db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id ="
                            + " e.chunk_id join documents d on d.id = ch.document_id where d.external_id = 'faq-3'"))
                    .as("the chunks kept from version 1 are embedded under version 2")
                    .isPositive()
                    .isEqualTo(((Number) db.queryValue("select chunk_count from documents where external_id = 'faq-3'"))
                            .longValue());

            // A re-embed computes every vector again: the embedded documents wait, then are embedded anew.
            Object before = db.queryValue("select max(embedded_at)::text from chunk_embeddings");
            JavaProcess reembed = CliProcess.start(env, "collections", "reembed", "notes");
            assertThat(reembed.waitFor(60)).as(reembed.stderr()).isZero();
            assertThat(reembed.stdout()).contains("asked for the embeddings of 4 document(s) of notes");
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> (long) db.queryValue("select count(*) from documents where status = 'embedded'") == 4
                            && (long) db.queryValue("select count(*) from chunk_embeddings where embedded_at <= '"
                                            + before + "'")
                                    == 0);
            JavaProcess unknown = CliProcess.start(env, "collections", "reembed", "nope");
            assertThat(unknown.waitFor(60)).isEqualTo(1);
            assertThat(unknown.stderr()).contains("no collection named 'nope'");

            JavaProcess unsure = CliProcess.start(env, "collections", "delete", "notes");
            assertThat(unsure.waitFor(60)).isEqualTo(2);
            JavaProcess delete = CliProcess.start(owner, "collections", "delete", "notes", "--yes");
            assertThat(delete.waitFor(60)).as(delete.stderr()).isZero();
            assertThat((long) db.queryValue("select count(*) from documents")).isZero();
            assertThat((long) db.queryValue("select count(*) from chunk_embeddings"))
                    .isZero();
        }
    }

    /** Waits until the embedding-worker has skipped {@code count} requests of a paused collection. */
    private static void awaitPausedSkips(WorkerRuntime runtime, int count) {
        await().atMost(Duration.ofMinutes(2)).until(() -> {
            var skipped = runtime.registry()
                    .find("ragline.embedding.requests")
                    .tag("outcome", "paused")
                    .counter();
            return skipped != null && skipped.count() == count;
        });
    }
}
