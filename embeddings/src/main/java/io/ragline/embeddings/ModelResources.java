package io.ragline.embeddings;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Reads a model's files from the classpath. The ONNX graph (up to 133 MB) is read when a session is
 * created and not kept: ONNX Runtime copies it into native memory, and a cached copy would hold
 * the same bytes a second time on the heap for the life of the process. Create one
 * {@code OnnxEmbeddingModel} per model per process (it is thread-safe) and the graph is read once.
 */
public final class ModelResources {
    private ModelResources() {}

    /** The ONNX graph of {@code spec}. */
    public static byte[] onnxBytes(EmbeddingModelSpec spec) {
        return read(spec, spec.onnxResource());
    }

    /** The {@code tokenizer.json} of {@code spec} (about 700 kB). */
    public static byte[] tokenizerJson(EmbeddingModelSpec spec) {
        return read(spec, spec.tokenizerResource());
    }

    private static byte[] read(EmbeddingModelSpec spec, String resource) {
        ClassLoader loader = ModelResources.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("model '" + spec.name() + "': classpath resource '" + resource
                        + "' not found; is its dev.langchain4j:langchain4j-embeddings-* artifact on the classpath?");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("model '" + spec.name() + "': cannot read " + resource, e);
        }
    }
}
