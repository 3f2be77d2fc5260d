package io.ragline.contracts.training;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;

/**
 * A validated {@code training} record (training.schema.json). {@code data},
 * {@code hyperparameters} and {@code search} keep their JSON so they can be stored as they came.
 */
public record TrainingRequest(
        String requestId,
        String project,
        String task,
        Backend backend,
        ObjectNode data,
        String algorithm,
        Optional<String> modelName,
        ObjectNode hyperparameters,
        double testSize,
        String testSampling,
        Deploy deploy,
        Optional<ObjectNode> search) {

    public enum Backend {
        BUILTIN,
        PGML;

        public String sql() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public enum Deploy {
        IF_BETTER,
        ALWAYS,
        NEVER;

        public String json() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static final String BUILTIN_ALGORITHM = "softmax_regression";

    /** Tasks pgml.tune fine-tunes (with model_name); pgml.train takes classification and regression. */
    public static final List<String> TUNE_TASKS = List.of(
            "text-classification",
            "text-pair-classification",
            "translation",
            "summarization",
            "question-answering",
            "text-generation",
            "text2text",
            "conversation");

    /** The builtin backend's collection. */
    public String collection() {
        return data.path("collection").asText();
    }

    /** The builtin backend's dotted path into documents.metadata, as a Postgres text[] path. */
    public List<String> labelPath() {
        return List.of(data.path("label_path").asText().split("\\."));
    }
}
