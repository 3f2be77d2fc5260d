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
 * The migration test of issue 19 (item 5), with real services and processes: collection {@code
 * default} is migrated from the default model (all-MiniLM-L6-v2-q, the int8 MiniLM) to bge-small-en-v1.5 by {@code ragline collections
 * migrate} while documents are published (a new one every 700 ms, from before the migrate until
 * after the rollback) and searched continuously (the product's {@link
 * Searcher}, which embeds each query with the model of the generation it searches). The
 * embedding-worker, a real process, is killed with SIGKILL in the middle of the backfill and
 * started again: the migration resumes from its durable requests. No search fails or comes back
 * empty, every document ends with the new model's vectors, {@code collection.migrated} is
 * written, and {@code ragline collections rollback} brings the old results back.
 */
class ModelMigrationIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aCollectionMigratesToAnotherModelUnderLoadSurvivesAKilledWorkerAndRollsBack() throws Exception {
        String prefix = "migr" + UUID.randomUUID().toString().substring(0, 8) + ".";
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
                        DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), 2, "migration-it", null);
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

            Searcher searcher = new Searcher(pool, new CollectionCatalog(Duration.ofSeconds(1)), models);
            Map<String, List<String>> before = MigrationLoad.results(searcher);
            assertThat(before.values()).allSatisfy(hits -> assertThat(hits).isNotEmpty());

            MigrationLoad load = new MigrationLoad(searcher, producer, prefix);

            JavaProcess migrate =
                    CliProcess.start(owner, "collections", "migrate", "default", "--model", "bge-small-en-v1.5");
            assertThat(migrate.waitFor(60)).as(migrate.stderr()).isZero();
            assertThat(migrate.stdout())
                    .contains("migrating collection default from " + ModelCatalog.DEFAULT_MODEL
                            + " to bge-small-en-v1.5");
            JavaProcess again =
                    CliProcess.start(owner, "collections", "migrate", "default", "--model", "bge-small-en-v1.5");
            assertThat(again.waitFor(60)).isEqualTo(1);
            assertThat(again.stderr()).contains("a migration of collection 'default' to bge-small-en-v1.5");

            // Published during the migration: these get both generations' vectors when embedded.
            for (Path p : texts.subList(texts.size() - 3, texts.size())) {
                MigrationLoad.publish(producer, prefix, p.getFileName().toString(), Files.readString(p));
            }
            await().atMost(Duration.ofMinutes(2)).until(() -> MigrationLoad.alive(worker) && newVectors() > 0);
            worker.kill(); // SIGKILL, mid-backfill
            worker.waitFor(20);
            assertThat(db.queryValue("select embedding_model from collections where name = 'default'"))
                    .as("killed before the switch")
                    .isEqualTo(ModelCatalog.DEFAULT_MODEL);

            JavaProcess status = CliProcess.start(env, "collections", "migrate", "default", "--status");
            assertThat(status.waitFor(60)).as(status.stderr()).isZero();
            assertThat(status.stdout())
                    .contains("migrating to bge-small-en-v1.5 (generation 2)")
                    .contains(" vectors (");

            JavaProcess restarted = JavaProcess.start(List.of(), EmbeddingWorker.class.getName(), workerEnv);
            await().atMost(Duration.ofMinutes(5))
                    .until(() -> MigrationLoad.alive(restarted)
                            && "bge-small-en-v1.5"
                                    .equals(db.queryValue(
                                            "select embedding_model from collections where name = 'default'")));
            await().atMost(Duration.ofMinutes(2)).until(() -> MigrationLoad.embeddedFiles(db) == texts.size());
            assertThat(load.problems())
                    .as("searches that failed or found nothing, of " + load.searches())
                    .isEmpty();
            assertThat(db.queryValue(
                            "select string_agg(distinct model, ',') from chunk_embeddings where generation = 2"))
                    .isEqualTo("bge-small-en-v1.5");
            List<String> migrated = KafkaTopics.readAll(prefix + "pipeline-events", Duration.ofSeconds(60)).stream()
                    .map(r -> r.value())
                    .filter(v -> v.contains("\"collection.migrated\""))
                    .toList();
            assertThat(migrated).hasSize(1);
            var event = JSON.readTree(migrated.get(0));
            assertThat(event.path("model").asText()).isEqualTo("bge-small-en-v1.5");
            assertThat(event.path("from_model").asText()).isEqualTo(ModelCatalog.DEFAULT_MODEL);
            assertThat(event.path("reason").asText()).isEqualTo("switch");
            assertThat(MigrationLoad.results(searcher).values())
                    .allSatisfy(hits -> assertThat(hits).isNotEmpty());

            JavaProcess rollback = CliProcess.start(owner, "collections", "rollback", "default");
            assertThat(rollback.waitFor(60)).as(rollback.stderr()).isZero();
            assertThat(rollback.stdout()).contains("serves generation 1 (" + ModelCatalog.DEFAULT_MODEL + ") again");
            List<String> latecomers = texts.subList(texts.size() - 3, texts.size()).stream()
                    .map(p -> p.getFileName().toString())
                    .toList();
            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> assertThat(MigrationLoad.results(searcher, SearchJson.MAX_K, latecomers))
                            .as("the results of the first model again (the documents published since left out)")
                            .isEqualTo(before));
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
            assertThat(lacking(2))
                    .as("chunks without a bge-small-en-v1.5 vector, the documents published since included")
                    .isZero();
            assertThat(lacking(1)).as("nor without a first model's one").isZero();
            restarted.terminate();
            assertThat(restarted.waitFor(30)).isZero();
        }
    }

    private static long newVectors() throws Exception {
        return (long) db.queryValue("select count(*) from chunk_embeddings where generation = 2");
    }

    /** Chunks of the collection without a vector of {@code generation}. */
    private static long lacking(int generation) throws Exception {
        return (long) db.queryValue("select count(*) from chunks ch where not exists (select 1 from chunk_embeddings e"
                + " where e.chunk_id = ch.id and e.generation = " + generation + ")");
    }
}
