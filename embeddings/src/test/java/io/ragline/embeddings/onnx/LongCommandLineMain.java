package io.ragline.embeddings.onnx;

import io.ragline.embeddings.ModelCatalog;
import java.util.List;

/** Loads a model and embeds one text in a process started by {@link OnnxLongCommandLineTest}. */
public final class LongCommandLineMain {
    private LongCommandLineMain() {}

    public static void main(String[] args) {
        try (OnnxEmbeddingModel model =
                OnnxEmbeddingModel.load(ModelCatalog.get("all-MiniLM-L6-v2-q"), new OnnxOptions(1, 4))) {
            System.out.println("dimensions " + model.embed(List.of("hello")).get(0).length);
        }
    }
}
