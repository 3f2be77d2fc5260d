package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.embedding.ProviderRegistry;
import io.ragline.embedding.search.SearchJson;
import io.ragline.embedding.search.Searcher;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.ingest.IngestWorker;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A migration to another chunk size (issue 19 item 5, {@code collections migrate NAME --chunk-size}),
 * with real services and processes, as {@link ModelMigrationIT} does for a model: collection {@code
 * default} (128-token chunks) is migrated to 48-token chunks with 6 of overlap while documents are
 * published (one every 700 ms) and searched continuously. The migration is refused first while a
 * document has no kept text (stored, as before V34, without one) and accepted once it was published
 * again unchanged. The embedding-worker, a real process, cuts every stored document again from its
 * kept text and embeds the new chunks; it is killed with SIGKILL mid-backfill and started again, and
 * the migration resumes. No search fails or comes back empty; after the switch every document has
 * chunks of at most 48 tokens with vectors, searches return them, and the collection's row says 48;
 * {@code ragline collections rollback} brings the 128-token results back, and {@code collections
 * prune} then deletes the 48-token chunks.
 */
class ChunkSizeMigrationIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aCollectionMigratesToAnotherChunkSizeUnderLoadSurvivesAKilledWorkerRollsBackAndPrunes() throws Exception {
        String prefix = "rechunk" + UUID.randomUUID().toString().substring(0, 8) + ".";
        Map<String, String> env = MigrationLoad.env(db, prefix);
        Map<String, String> owner = MigrationLoad.ownerEnv(db, env); // migrate, rollback and prune are DDL
        Map<String, String> workerEnv = MigrationLoad.workerEnv(env);
        Env e = new Env(env);
        var dispatcher = EventDispatcher.wiring(e);
        var ingest = IngestWorker.wiring(e);
        e.validate();
        List<Path> texts = MigrationLoad.licenceTexts();
        try (WorkerRuntime runtime = WorkerRuntime.start("ingest-and-dispatch", 0, e);
                KafkaProducer<String, String> producer = KafkaTopics.producer();
                HikariDataSource pool = Database.pool(
                        DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), 2, "rechunk-it", null);
                ProviderRegistry models = new ProviderRegistry(
                        EmbeddingSettings.from(new Env(Map.of(EmbeddingSettings.ONNX_THREADS, "1"))), pool)) {
            dispatcher.accept(runtime);
            ingest.accept(runtime);
            for (Path p : texts.subList(0, texts.size() - 3)) {
                MigrationLoad.publish(producer, prefix, p.getFileName().toString(), Files.readString(p));
            }
            int published = texts.size() - 3;
            JavaProcess worker = JavaProcess.start(List.of(), EmbeddingWorker.class.getName(), workerEnv);
            await().atMost(Duration.ofMinutes(4))
                    .until(() -> MigrationLoad.alive(worker) && MigrationLoad.embedded(db) == published);
            assertThat(db.queryValue("select chunk_size_tokens from collections where name = 'default'"))
                    .isEqualTo(128);

            // A document stored before texts were kept cannot be cut again: refused, naming it.
            String legacy = texts.get(0).getFileName().toString();
            db.execute("delete from document_texts t using documents d where d.id = t.document_id and d.external_id"
                    + " = '" + legacy + "'");
            JavaProcess refused = CliProcess.start(owner, "collections", "migrate", "default", "--chunk-size", "48");
            assertThat(refused.waitFor(60))
                    .as(refused.stdout() + refused.stderr())
                    .isEqualTo(1);
            assertThat(refused.stderr())
                    .contains("1 document(s) of collection 'default' (such as " + legacy + ")")
                    .contains("publish them again");
            MigrationLoad.publish(
                    producer, prefix, legacy, Files.readString(texts.get(0))); // unchanged: keeps its text
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> (long) db.queryValue("select count(*) from document_texts t join documents d on d.id ="
                                    + " t.document_id where d.external_id = '" + legacy + "'")
                            == 1L);

            Searcher searcher = new Searcher(pool, new CollectionCatalog(Duration.ofSeconds(1)), models);
            Map<String, List<String>> before = MigrationLoad.results(searcher);
            assertThat(before.values()).allSatisfy(hits -> assertThat(hits).isNotEmpty());

            MigrationLoad load = new MigrationLoad(searcher, producer, prefix);

            JavaProcess migrate = CliProcess.start(
                    owner, "collections", "migrate", "default", "--chunk-size", "48", "--chunk-overlap", "6");
            assertThat(migrate.waitFor(60)).as(migrate.stderr()).isZero();
            assertThat(migrate.stdout())
                    .contains("migrating collection default from " + ModelCatalog.DEFAULT_MODEL + " to "
                            + ModelCatalog.DEFAULT_MODEL + " (generation 2, 384 dimensions, chunks cut again)")
                    .contains("document(s) to cut again from their kept text and embed");

            // Published during the migration: the ingest-worker cuts these for both chunkings.
            for (Path p : texts.subList(texts.size() - 3, texts.size())) {
                MigrationLoad.publish(producer, prefix, p.getFileName().toString(), Files.readString(p));
            }
            await().atMost(Duration.ofMinutes(2)).until(() -> MigrationLoad.alive(worker) && newVectors() > 0);
            worker.kill(); // SIGKILL, mid-backfill
            worker.waitFor(20);
            assertThat(db.queryValue("select count(*) from documents d where d.external_id not like 'live-%' and not"
                            + " exists (select 1 from chunks ch join chunk_embeddings e on e.chunk_id = ch.id and"
                            + " e.generation = 2 where ch.document_id = d.id and ch.chunking = 2)"))
                    .as("licence files without any new vector when the worker was killed")
                    .isNotEqualTo(0L);
            assertThat(db.queryValue("select chunk_size_tokens from collections where name = 'default'"))
                    .as("killed before the switch")
                    .isEqualTo(128);

            JavaProcess status = CliProcess.start(env, "collections", "migrate", "default", "--status");
            assertThat(status.waitFor(60)).as(status.stderr()).isZero();
            assertThat(status.stdout())
                    .contains("migrating to " + ModelCatalog.DEFAULT_MODEL + " (generation 2)")
                    .contains(" documents (");

            JavaProcess restarted = JavaProcess.start(List.of(), EmbeddingWorker.class.getName(), workerEnv);
            await().atMost(Duration.ofMinutes(5))
                    .until(() -> MigrationLoad.alive(restarted)
                            && Integer.valueOf(48)
                                    .equals(db.queryValue(
                                            "select chunk_size_tokens from collections where name = 'default'")));
            await().atMost(Duration.ofMinutes(2)).until(() -> MigrationLoad.embeddedFiles(db) == texts.size());
            assertThat(load.problems())
                    .as("searches that failed or found nothing, of " + load.searches())
                    .isEmpty();
            assertThat(db.queryValue("select chunk_overlap_tokens from collections where name = 'default'"))
                    .isEqualTo(6);
            assertThat(db.queryValue("select max(token_count) from chunks where chunking = 2"))
                    .isInstanceOfSatisfying(Integer.class, n -> assertThat(n).isBetween(24, 48));
            assertThat((long) db.queryValue("select count(*) from chunks where chunking = 2"))
                    .as("smaller chunks: more of them")
                    .isGreaterThan((long) db.queryValue("select count(*) from chunks where chunking = 1"));
            List<String> migrated = KafkaTopics.readAll(prefix + "pipeline-events", Duration.ofSeconds(60)).stream()
                    .map(r -> r.value())
                    .filter(v -> v.contains("\"collection.migrated\""))
                    .toList();
            assertThat(migrated).hasSize(1);
            assertThat(JSON.readTree(migrated.get(0)).path("reason").asText()).isEqualTo("switch");
            // The searcher's catalog keeps what it read for a second: within that it still searches
            // generation 1, which is kept and answers.
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                for (String q : MigrationLoad.QUERIES) {
                    List<Searcher.Hit> hits = searcher.search("default", q, 5, null);
                    assertThat(hits).isNotEmpty();
                    for (Searcher.Hit h : hits) {
                        assertThat(db.queryValue("select chunking from chunks where id = " + h.chunkId()))
                                .as("'%s' finds the new chunks", q)
                                .isEqualTo(2);
                    }
                }
            });

            JavaProcess rollback = CliProcess.start(owner, "collections", "rollback", "default");
            assertThat(rollback.waitFor(60)).as(rollback.stderr()).isZero();
            assertThat(rollback.stdout()).contains("serves generation 1 (" + ModelCatalog.DEFAULT_MODEL + ") again");
            List<String> latecomers = texts.subList(texts.size() - 3, texts.size()).stream()
                    .map(p -> p.getFileName().toString())
                    .toList();
            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> assertThat(MigrationLoad.results(searcher, SearchJson.MAX_K, latecomers))
                            .as("the results of the 128-token chunks again (the documents published since left out)")
                            .isEqualTo(before));
            assertThat(db.queryValue("select chunk_size_tokens from collections where name = 'default'"))
                    .isEqualTo(128);
            load.stopPublishing();
            producer.flush();
            long total = texts.size() + load.published();
            await().atMost(Duration.ofMinutes(3)).until(() -> MigrationLoad.embedded(db) == total);
            load.close();
            assertThat(load.problems())
                    .as("searches that failed or found nothing, of " + load.searches() + ", through migrate, a killed"
                            + " worker, the switch and the rollback")
                    .isEmpty();
            assertThat(load.published()).as("documents published during it all").isGreaterThan(20);
            await().atMost(Duration.ofMinutes(1))
                    .untilAsserted(() -> assertThat(lacking(2, 2))
                            .as("48-token chunks without a vector of generation 2, the documents published since"
                                    + " included")
                            .isZero());
            assertThat(lacking(1, 1))
                    .as("nor 128-token ones without generation 1's")
                    .isZero();
            assertThat(db.queryValue("select count(*) from documents d where d.status = 'embedded' and not exists"
                            + " (select 1 from chunks ch where ch.document_id = d.id and ch.chunking = 2)"))
                    .as("every document, the ones published since included, has chunks of both sizes")
                    .isEqualTo(0L);

            JavaProcess prune = CliProcess.start(owner, "collections", "prune", "default");
            assertThat(prune.waitFor(60)).as(prune.stderr()).isZero();
            assertThat(db.queryValue("select count(*) from chunks where chunking = 2"))
                    .as("the pruned generation's chunks are gone with its vectors")
                    .isEqualTo(0L);
            assertThat(db.queryValue("select count(*) from collection_chunkings"))
                    .isEqualTo(1L);
            assertThat(MigrationLoad.results(searcher, SearchJson.MAX_K, latecomers))
                    .isEqualTo(before);
            restarted.terminate();
            assertThat(restarted.waitFor(30)).isZero();
        }
    }

    private static long newVectors() throws Exception {
        return (long) db.queryValue("select count(*) from chunk_embeddings where generation = 2");
    }

    /** Chunks of chunking {@code chunking} without a vector of {@code generation}. */
    private static long lacking(int chunking, int generation) throws Exception {
        return (long) db.queryValue("select count(*) from chunks ch where ch.chunking = " + chunking + " and not exists"
                + " (select 1 from chunk_embeddings e where e.chunk_id = ch.id and e.generation = " + generation + ")");
    }
}
