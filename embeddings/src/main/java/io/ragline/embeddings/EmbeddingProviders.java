package io.ragline.embeddings;

import io.ragline.embeddings.onnx.OnnxEmbeddingModel;
import io.ragline.embeddings.onnx.OnnxOptions;
import io.ragline.embeddings.openai.OpenAiEmbeddingProvider;
import io.ragline.embeddings.pgml.PgmlEmbeddingProvider;
import javax.sql.DataSource;

/** Builds the {@link EmbeddingProvider} that {@link EmbeddingSettings} names. */
public final class EmbeddingProviders {
    private EmbeddingProviders() {}

    /**
     * The configured provider. Loading an ONNX model takes a second or two and its native memory
     * (90-133 MB fp32): call once per process.
     *
     * @param dataSource the database for {@code pgml}; may be null for the other providers
     * @throws EmbeddingException when the model cannot be loaded or pgml is not installed
     */
    public static EmbeddingProvider create(EmbeddingSettings settings, DataSource dataSource) {
        return switch (settings.provider()) {
            case ONNX ->
                OnnxEmbeddingModel.load(
                        ModelCatalog.get(settings.model()),
                        new OnnxOptions(settings.onnxThreads(), settings.batchSize()));
            case OPENAI -> new OpenAiEmbeddingProvider(settings.openai());
            case PGML -> {
                if (dataSource == null) {
                    throw new IllegalArgumentException("the pgml provider needs the worker's DataSource");
                }
                yield PgmlEmbeddingProvider.connect(
                        dataSource, settings.model(), settings.dimensions(), settings.maxTokens());
            }
        };
    }

    /** An in-JVM ONNX model from {@link ModelCatalog} with default options (threads = cores, batches of 32). */
    public static OnnxEmbeddingModel onnx(String model) {
        return OnnxEmbeddingModel.load(ModelCatalog.get(model), OnnxOptions.defaults());
    }
}
