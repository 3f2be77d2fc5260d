package io.ragline.embeddings;

import io.ragline.core.collections.CollectionSettings;
import io.ragline.embeddings.EmbeddingModelSpec.Pooling;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The embedding models Ragline runs in-process, offline: their ONNX graphs and tokenizers come from
 * Maven artifacts on the classpath, so no model hub is reached at run time.
 *
 * <p>Windows follow the models' training, not their tokenizer files: sentence-transformers trained
 * all-MiniLM-L6-v2 on 256 word pieces (its {@code tokenizer.json} says 128, which we ignore); BGE
 * small takes 512.
 */
public final class ModelCatalog {
    /**
     * The default model: all-MiniLM-L6-v2 quantised to int8. About twice the fp32 model's speed on
     * the CPUs measured, and within noise of it in the default (hybrid) search mode on the
     * retrieval-quality benchmark (docs/benchmarks.md); the fp32 model stays a choice per collection.
     */
    public static final String DEFAULT_MODEL = "all-MiniLM-L6-v2-q";

    /** BGE v1.5's instruction for retrieval queries (documents are embedded without it). */
    public static final String BGE_QUERY_PREFIX = "Represent this sentence for searching relevant passages: ";

    private static final Map<String, EmbeddingModelSpec> MODELS = new LinkedHashMap<>();

    static {
        add(new EmbeddingModelSpec(
                "all-MiniLM-L6-v2-q",
                384,
                256,
                Pooling.MEAN,
                true,
                "",
                "all-minilm-l6-v2-q.onnx",
                "all-minilm-l6-v2-q-tokenizer.json",
                true));
        add(new EmbeddingModelSpec(
                "all-MiniLM-L6-v2",
                384,
                256,
                Pooling.MEAN,
                true,
                "",
                "all-minilm-l6-v2.onnx",
                "all-minilm-l6-v2-tokenizer.json",
                false));
        add(new EmbeddingModelSpec(
                "bge-small-en-v1.5",
                384,
                512,
                Pooling.CLS,
                true,
                BGE_QUERY_PREFIX,
                "bge-small-en-v1.5.onnx",
                "bge-small-en-v1.5-tokenizer.json",
                false));
        add(new EmbeddingModelSpec(
                "bge-small-en-v1.5-q",
                384,
                512,
                Pooling.CLS,
                true,
                BGE_QUERY_PREFIX,
                "bge-small-en-v1.5-q.onnx",
                "bge-small-en-v1.5-q-tokenizer.json",
                true));
    }

    private ModelCatalog() {}

    private static void add(EmbeddingModelSpec spec) {
        MODELS.put(spec.name(), spec);
    }

    /**
     * The model called {@code name} (exact spelling, as listed by {@link #names()}).
     *
     * @throws IllegalArgumentException naming the known models when there is no such model
     */
    public static EmbeddingModelSpec get(String name) {
        EmbeddingModelSpec spec = name == null ? null : MODELS.get(name);
        if (spec == null) {
            throw new IllegalArgumentException(
                    "unknown embedding model '" + name + "'; known models: " + String.join(", ", names()));
        }
        return spec;
    }

    /** The default model, {@value #DEFAULT_MODEL}. */
    public static EmbeddingModelSpec defaultModel() {
        return get(DEFAULT_MODEL);
    }

    /** Every known model name, default first. */
    public static List<String> names() {
        return List.copyOf(MODELS.keySet());
    }

    /** The bundled models as the collection registry checks a new collection against them. */
    public static CollectionSettings.BundledModels bundled() {
        return new CollectionSettings.BundledModels() {
            @Override
            public String defaultModel() {
                return DEFAULT_MODEL;
            }

            @Override
            public List<String> names() {
                return ModelCatalog.names();
            }

            @Override
            public int dimensions(String name) {
                return get(name).dimensions();
            }
        };
    }
}
