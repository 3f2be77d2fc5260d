package io.ragline.embedding;

import io.ragline.core.collections.Collection;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.embeddings.onnx.OnnxEmbeddingModel;
import io.ragline.embeddings.onnx.OnnxOptions;
import io.ragline.embeddings.openai.OpenAiEmbeddingProvider;
import io.ragline.embeddings.openai.OpenAiSettings;
import io.ragline.embeddings.pgml.PgmlEmbeddingProvider;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * The provider of each collection (its {@code embedding_provider} and {@code embedding_model}),
 * one per (provider, model) for the whole process, made on first use: an ONNX session is large
 * and uses every core, so collections that share a model share it. {@code openai} collections use
 * the endpoint, key and limits of the process's {@code RAGLINE_OPENAI_*} settings with their own
 * model and dimensions; {@code pgml} collections call {@code pgml.embed} in the worker's database.
 * Closing the registry closes them all.
 */
public final class ProviderRegistry implements Function<Collection, EmbeddingProvider>, AutoCloseable {
    private final EmbeddingSettings settings;
    private final DataSource dataSource;
    private final Map<String, EmbeddingProvider> providers = new ConcurrentHashMap<>();

    public ProviderRegistry(EmbeddingSettings settings, DataSource dataSource) {
        this.settings = settings;
        this.dataSource = dataSource;
    }

    @Override
    public EmbeddingProvider apply(Collection collection) {
        String key = collection.provider() + "/" + collection.model() + "/" + collection.dimensions();
        EmbeddingProvider existing = providers.get(key);
        return existing != null ? existing : providers.computeIfAbsent(key, k -> create(collection));
    }

    private EmbeddingProvider create(Collection c) {
        return switch (c.provider()) {
            case "onnx" -> {
                if (!ModelCatalog.names().contains(c.model())) {
                    throw new EmbeddingException(
                            "collection '" + c.name() + "' uses model '" + c.model() + "'; the onnx provider knows "
                                    + ModelCatalog.names(),
                            false);
                }
                yield OnnxEmbeddingModel.load(
                        ModelCatalog.get(c.model()), new OnnxOptions(settings.onnxThreads(), settings.batchSize()));
            }
            case "openai" -> {
                OpenAiSettings endpoint = settings.openai();
                if (endpoint == null) {
                    throw new EmbeddingException(
                            "collection '" + c.name() + "' uses provider 'openai' but this embedding-worker has no"
                                    + " endpoint: set RAGLINE_EMBEDDING_PROVIDER=openai and RAGLINE_OPENAI_BASE_URL",
                            false);
                }
                yield new OpenAiEmbeddingProvider(new OpenAiSettings(
                        endpoint.baseUrl(),
                        endpoint.apiKey(),
                        c.model(),
                        c.dimensions(),
                        endpoint.maxTokens(),
                        endpoint.batchSize(),
                        endpoint.requestsPerSecond(),
                        endpoint.maxAttempts(),
                        endpoint.initialBackoff(),
                        endpoint.maxBackoff(),
                        endpoint.requestTimeout()));
            }
            case "pgml" ->
                PgmlEmbeddingProvider.connect(
                        dataSource, c.model(), c.dimensions(), EmbeddingSettings.DEFAULT_PGML_MAX_TOKENS);
            default ->
                throw new EmbeddingException(
                        "collection '" + c.name() + "' has unknown provider '" + c.provider() + "'", false);
        };
    }

    @Override
    public void close() {
        providers.values().forEach(EmbeddingProvider::close);
        providers.clear();
    }
}
