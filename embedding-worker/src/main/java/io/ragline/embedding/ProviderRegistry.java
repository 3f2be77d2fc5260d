package io.ragline.embedding;

import io.ragline.core.collections.Collection;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.embeddings.onnx.OnnxEmbeddingModel;
import io.ragline.embeddings.onnx.OnnxOptions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * One provider per (provider, model) for the whole process, made on first use: an ONNX session is
 * large and uses every core, so collections that share a model share it. Closing the registry
 * closes them all.
 */
public final class ProviderRegistry implements Function<Collection, EmbeddingProvider>, AutoCloseable {
    private final OnnxOptions onnx;
    private final Map<String, EmbeddingProvider> providers = new ConcurrentHashMap<>();

    public ProviderRegistry(OnnxOptions onnx) {
        this.onnx = onnx;
    }

    @Override
    public EmbeddingProvider apply(Collection collection) {
        return providers.computeIfAbsent(collection.provider() + "/" + collection.model(), key -> create(collection));
    }

    private EmbeddingProvider create(Collection collection) {
        if (!collection.provider().equals("onnx")) {
            throw new EmbeddingException(
                    "collection '" + collection.name() + "' uses provider '" + collection.provider()
                            + "', which this embedding-worker does not run; only 'onnx' is available",
                    false);
        }
        if (!ModelCatalog.names().contains(collection.model())) {
            throw new EmbeddingException(
                    "collection '" + collection.name() + "' uses model '" + collection.model()
                            + "'; the onnx provider knows " + ModelCatalog.names(),
                    false);
        }
        return OnnxEmbeddingModel.load(ModelCatalog.get(collection.model()), onnx);
    }

    @Override
    public void close() {
        providers.values().forEach(EmbeddingProvider::close);
        providers.clear();
    }
}
