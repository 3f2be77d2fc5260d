package io.ragline.training.job;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;

/**
 * What a backend trained: the model to store and its metrics.
 *
 * @param collectionId the builtin model's collection (it labels that collection's documents)
 * @param embeddingGeneration the builtin model's embedding generation of that collection: the one
 *     whose vectors it was trained on, and scores
 * @param pgmlModelId {@code pgml.models.id} of a pgml model
 * @param artifact the builtin model's bytes
 * @param summary metrics as JSON, stored in {@code models.metrics} and sent in the event
 * @param deploy whether the model becomes the project's deployed one
 * @param deployedBefore the model deployed when the decision was made (deploying is refused if it
 *     changed meanwhile)
 * @param deployReason why (or why not), for the event and the log
 */
public record Outcome(
        String algorithm,
        Optional<Integer> collectionId,
        Optional<Integer> embeddingGeneration,
        Optional<Long> pgmlModelId,
        Optional<byte[]> artifact,
        List<Metric> metrics,
        ObjectNode summary,
        boolean deploy,
        Optional<Long> deployedBefore,
        String deployReason) {

    /** One row of {@code model_metrics}. */
    public record Metric(String split, String name, double value) {}
}
