package io.ragline.console.collections;

import io.ragline.console.api.ApiRoutes;
import io.ragline.contracts.Topic;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.Env;
import io.ragline.core.documents.DocumentPublisher;
import io.ragline.embedding.ProviderRegistry;
import io.ragline.embedding.search.Searcher;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.ingest.IngestSettings;
import java.time.Duration;
import java.util.function.BiConsumer;

/**
 * Wires the collections, documents and search areas: reads their settings now (the embedding
 * provider's, as the embedding-worker reads them, and {@code RAGLINE_DOCUMENT_MAX_BYTES}, as the
 * ingest-worker does; problems join the start-up report), and registers the routes later on the
 * runtime's pool and shared producer. A search embeds its query in this process: the ONNX model of
 * a collection is loaded on its first search.
 */
public final class CollectionAreas {
    private CollectionAreas() {}

    public static BiConsumer<WorkerRuntime, ApiRoutes> wiring(Env env) {
        EmbeddingSettings embedding = EmbeddingSettings.from(env);
        IngestSettings ingest = IngestSettings.from(env);
        return (runtime, routes) -> {
            ProviderRegistry providers = runtime.manage(new ProviderRegistry(embedding, runtime.dataSource()));
            new CollectionsApi().register(routes);
            new MigrationsApi().register(routes);
            new DocumentsApi(
                            new DocumentPublisher(
                                    runtime.producer(), runtime.settings().topic(Topic.DOCUMENTS.topic())),
                            ingest.maxContentBytes())
                    .register(routes);
            new SearchApi(new Searcher(runtime.dataSource(), new CollectionCatalog(Duration.ofSeconds(10)), providers))
                    .register(routes);
        };
    }
}
