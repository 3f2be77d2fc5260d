package io.ragline.peer;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The in-process models the peer can run, as LangChain4j ships them: ONNX in the JVM, one text
 * per call spread over the cores, the tokenizer truncating each text at 128 tokens (its
 * tokenizer.json). Both have 384 dimensions.
 */
enum PeerModel {
    ALL_MINILM_L6_V2("all-minilm-l6-v2", AllMiniLmL6V2EmbeddingModel::new),
    ALL_MINILM_L6_V2_Q("all-minilm-l6-v2-q", AllMiniLmL6V2QuantizedEmbeddingModel::new);

    static final int DIMENSIONS = 384;

    private final String argument;
    private final Supplier<EmbeddingModel> factory;

    PeerModel(String argument, Supplier<EmbeddingModel> factory) {
        this.argument = argument;
        this.factory = factory;
    }

    /** Loads the model (the ONNX graph and the tokenizer from the model's jar). */
    EmbeddingModel load() {
        return factory.get();
    }

    static PeerModel parse(String argument) {
        for (PeerModel m : values()) {
            if (m.argument.equals(argument.toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new PeerUsageException("--model must be one of " + names() + ", not '" + argument + "'");
    }

    static String names() {
        return Arrays.stream(values()).map(m -> m.argument).collect(Collectors.joining("|"));
    }
}
