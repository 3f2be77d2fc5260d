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
import javax.sql.DataSource;

/**
 * Creates the provider of a collection's model ({@code embedding_provider}, {@code
 * embedding_model}, {@code dimensions}): an ONNX model of this build, the process's OpenAI-compatible
 * endpoint ({@code RAGLINE_OPENAI_*}) with the collection's model and dimensions, or {@code
 * pgml.embed} in the worker's database. {@link ProviderRegistry} keeps one per model.
 */
final class EmbeddingProviders {
    private EmbeddingProviders() {}

    /**
     * A new provider of collection {@code c}'s model.
     *
     * @throws EmbeddingException not retryable when this worker cannot run it (an unknown provider
     *     or ONNX model, no OpenAI-compatible endpoint configured, no pgml); retryable when it could
     *     not be created now (pgml's database not reachable)
     */
    static EmbeddingProvider create(EmbeddingSettings settings, DataSource dataSource, Collection c) {
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
}
