package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.embeddings.ModelCatalog;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code ragline collections create} with a vector index, {@code show}, {@code list}, {@code
 * reindex}, and {@code update} refusing to change the index, as real processes against real Postgres.
 */
class CollectionIndexCommandsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @Test
    void showAndListNameTheServingGenerationsModelAndARunningMigrationsProgress() throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        Map<String, String> owner = new HashMap<>(env);
        owner.put("DATABASE_URL", db.ownerDatabaseUrl());
        JavaProcess create = CliProcess.start(owner, "collections", "create", "moving");
        assertThat(create.waitFor(60)).as(create.stderr()).isZero();
        JavaProcess migrate =
                CliProcess.start(owner, "collections", "migrate", "moving", "--model", "bge-small-en-v1.5");
        assertThat(migrate.waitFor(60)).as(migrate.stderr()).isZero();

        JavaProcess show = CliProcess.start(env, "collections", "show", "moving");
        assertThat(show.waitFor(60)).as(show.stderr()).isZero();
        assertThat(show.stdout())
                .contains("model:      onnx " + ModelCatalog.DEFAULT_MODEL + ", 384 dimensions (generation 1, serving)")
                .contains("migration:  to bge-small-en-v1.5 (generation 2): 0 of 0 vectors (100%)");
        JavaProcess list = CliProcess.start(env, "collections", "list");
        assertThat(list.waitFor(60)).as(list.stderr()).isZero();
        assertThat(list.stdout()).contains("    migrating: to bge-small-en-v1.5 (generation 2): 0 of 0 vectors (100%)");
    }

    @Test
    void aCollectionCreatedOrMigratedToIndexAfterTheLoadHasNoIndexUntilTheOwnersReindex() throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        Map<String, String> owner = new HashMap<>(env);
        owner.put("DATABASE_URL", db.ownerDatabaseUrl());
        JavaProcess create = CliProcess.start(owner, "collections", "create", "bulk", "--index-after-load");
        assertThat(create.waitFor(60)).as(create.stderr()).isZero();
        assertThat(create.stdout())
                .contains("created collection bulk")
                .contains("its HNSW index is left out: searches scan exactly until `ragline collections reindex bulk`");
        assertThat(hnswIndexes("bulk")).as("none built at create").isEqualTo(0L);
        JavaProcess again = CliProcess.start(owner, "collections", "create", "bulk", "--index-after-load");
        assertThat(again.waitFor(60))
                .as("a duplicate, in its transaction, is still refused")
                .isEqualTo(1);

        JavaProcess show = CliProcess.start(env, "collections", "show", "bulk");
        assertThat(show.waitFor(60)).as(show.stderr()).isZero();
        assertThat(show.stdout())
                .contains("built:      no: searches scan exactly until `ragline collections reindex bulk`");
        JavaProcess list = CliProcess.start(env, "collections", "list");
        assertThat(list.waitFor(60)).as(list.stderr()).isZero();
        assertThat(list.stdout())
                .contains("    no vector index: searches scan exactly; once it is loaded, `ragline collections"
                        + " reindex bulk` builds it")
                .doesNotContain("reindex default`");
        JavaProcess reindex = CliProcess.start(owner, "collections", "reindex", "bulk");
        assertThat(reindex.waitFor(60)).as(reindex.stderr()).isZero();
        assertThat(hnswIndexes("bulk")).isEqualTo(1L);

        JavaProcess migrate = CliProcess.start(
                owner, "collections", "migrate", "bulk", "--model", "bge-small-en-v1.5", "--index-after-load");
        assertThat(migrate.waitFor(60)).as(migrate.stderr()).isZero();
        assertThat(migrate.stdout())
                .contains("its vector index is left out until the backfill is complete: then run `ragline collections"
                        + " reindex bulk`");
        assertThat(hnswIndexes("bulk")).as("the building generation has none").isEqualTo(1L);
        JavaProcess status = CliProcess.start(env, "collections", "migrate", "bulk", "--status");
        assertThat(status.waitFor(60)).as(status.stderr()).isZero();
        assertThat(status.stdout()).contains("waiting for its index: run `ragline collections reindex bulk`");
        JavaProcess build = CliProcess.start(owner, "collections", "reindex", "bulk");
        assertThat(build.waitFor(60)).as(build.stderr()).isZero();
        assertThat(hnswIndexes("bulk"))
                .as("the building generation's, beside the serving one's")
                .isEqualTo(2L);
    }

    /** The HNSW indexes of collection {@code name}'s generations. */
    private static Object hnswIndexes(String name) throws Exception {
        return db.queryValue("select count(*) from pg_indexes i join collections c on c.name = '" + name + "'"
                + " join collection_generations g on g.collection_id = c.id where i.schemaname = current_schema()"
                + " and i.indexname = collection_index_name(c.id, g.generation) and i.indexdef like '%USING hnsw%'");
    }

    @Test
    void anOperatorChoosesTheIndexAtCreateSeesItBuildsItAndCannotChangeIt() throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        // Creating and reindexing a collection is DDL: the owner's.
        Map<String, String> owner = new HashMap<>(env);
        owner.put("DATABASE_URL", db.ownerDatabaseUrl());

        JavaProcess bad = CliProcess.start(
                owner,
                "collections",
                "create",
                "vecs",
                "--index",
                "hnsw",
                "--lists",
                "10",
                "--distance",
                "dot",
                "--m",
                "1");
        assertThat(bad.waitFor(60)).isEqualTo(2);
        assertThat(bad.stderr())
                .contains("--lists is an option of the ivfflat index, not of hnsw")
                .contains("--distance must be one of [cosine, l2, inner_product], not 'dot'")
                .contains("--m must be from 2 to 100, not 1");

        JavaProcess create = CliProcess.start(
                owner,
                "collections",
                "create",
                "vecs",
                "--provider",
                "openai",
                "--model",
                "test",
                "--dimensions",
                "4",
                "--distance",
                "l2",
                "--index",
                "ivfflat",
                "--lists",
                "2",
                "--halfvec",
                "--text-config",
                "simple");
        assertThat(create.waitFor(60)).as(create.stderr()).isZero();
        assertThat(create.stdout())
                .contains("created collection vecs")
                .contains("l2 ivfflat (lists 2, probes sqrt(lists)), halfvec, text simple");
        assertThat(db.queryValue("select distance || ' ' || index_type || ' ' || index_options::text || ' '"
                        + " || vector_storage || ' ' || text_search_config::text from collections where name = 'vecs'"))
                .isEqualTo("l2 ivfflat {\"lists\": 2} halfvec simple");

        JavaProcess before = CliProcess.start(env, "collections", "show", "vecs");
        assertThat(before.waitFor(60)).as(before.stderr()).isZero();
        assertThat(before.stdout())
                .contains("index:      l2 ivfflat (lists 2, probes sqrt(lists)), halfvec, text simple")
                .contains("built:      no: searches scan exactly until `ragline collections reindex vecs`");

        db.execute("with d as (insert into documents (collection_id, external_id, status) select c.id, 'doc-' || i,"
                + " 'embedded' from collections c, generate_series(1, 20) i where c.name = 'vecs' returning id,"
                + " collection_id), ch as (insert into chunks (document_id, collection_id, document_version, seq,"
                + " content, token_count) select id, collection_id, 0, 0, 'text', 1 from d returning id,"
                + " collection_id) insert into chunk_embeddings (chunk_id, collection_id, embedding, model) select id,"
                + " collection_id, array[id % 7, id % 5, id % 3, 1]::real[]::vector, 'test' from ch");
        JavaProcess reindex = CliProcess.start(owner, "collections", "reindex", "vecs");
        assertThat(reindex.waitFor(60)).as(reindex.stderr()).isZero();
        assertThat(reindex.stdout()).contains("built index chunk_embeddings_c").contains("of collection vecs");

        JavaProcess after = CliProcess.start(env, "collections", "show", "vecs");
        assertThat(after.waitFor(60)).as(after.stderr()).isZero();
        assertThat(after.stdout()).contains("built:      yes").contains("documents:  embedded 20");

        JavaProcess list = CliProcess.start(env, "collections", "list");
        assertThat(list.waitFor(60)).as(list.stderr()).isZero();
        assertThat(list.stdout()).contains("DISTANCE").containsPattern("vecs .* l2 +ivfflat halfvec +active");

        JavaProcess change = CliProcess.start(env, "collections", "update", "vecs", "--distance", "cosine");
        assertThat(change.waitFor(60)).isEqualTo(2);
        assertThat(change.stderr())
                .contains("--distance is fixed when the collection is created: changeable only through a migration");

        JavaProcess unknown = CliProcess.start(owner, "collections", "reindex", "nope");
        assertThat(unknown.waitFor(60)).isEqualTo(1);
        assertThat(unknown.stderr()).contains("no collection named 'nope'");
    }
}
