package io.ragline.benchmarks;

import io.ragline.core.collections.CollectionRegistry;
import io.ragline.core.collections.CollectionSettings;
import io.ragline.core.collections.IndexBuild;
import io.ragline.embeddings.ModelCatalog;
import java.util.Locale;

/**
 * {@link PipelineBenchmark}'s {@code index:after-load}: a collection created with every default but
 * its HNSW index ({@link IndexBuild#AFTER_LOAD}), and that index built once the copies are loaded,
 * as {@code ragline collections reindex} builds it ({@link CollectionRegistry#reindex}).
 */
final class IndexAfterLoad {
    private IndexAfterLoad() {}

    /** Creates collection {@code name} with every default but its index, left out for after the load. */
    static void create(RaglinePipeline pipeline, String name) throws Exception {
        pipeline.inTransaction(c -> new CollectionRegistry(ModelCatalog.bundled())
                .create(c, name, new CollectionSettings(null, null, null, null, null, null), IndexBuild.AFTER_LOAD));
        System.out.printf(Locale.ROOT, "| index:after-load: the copies go into collection %s, no HNSW index |%n", name);
    }

    /**
     * Builds collection {@code name}'s index over the vectors loaded, with the pipeline idle, and
     * prints its time, Postgres' CPU meanwhile and the tokens per second of the load ({@code
     * tokensPerSecond} over {@code loadSeconds}) with the build counted.
     */
    static void build(RaglinePipeline pipeline, String name, double tokensPerSecond, double loadSeconds)
            throws Exception {
        long vectors = pipeline.count("select count(*) from " + pipeline.schema() + ".chunk_embeddings e join "
                + pipeline.schema() + ".collections k on k.id = e.collection_id where k.name = '" + name + "'");
        double postgresBefore = ProcCpu.postgres();
        long start = System.nanoTime();
        pipeline.inTransaction(c -> new CollectionRegistry(ModelCatalog.bundled()).reindex(c, name));
        double build = (System.nanoTime() - start) / 1e9;
        double postgres = ProcCpu.postgres() - postgresBefore;
        System.out.printf(
                Locale.ROOT,
                "| the index built after the load (collections reindex) | %,d vectors | %.2f s | Postgres %.2f CPU-s,"
                        + " %.2f ms a vector |%n",
                vectors,
                build,
                postgres,
                1000 * postgres / vectors);
        System.out.printf(
                Locale.ROOT,
                "| the corpus to indexed, the build counted | %,.0f tokens/s (the load alone %,.0f) |%n",
                tokensPerSecond * loadSeconds / (loadSeconds + build),
                tokensPerSecond);
    }
}
